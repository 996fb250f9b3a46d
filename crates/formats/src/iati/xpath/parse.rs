//! XPath 1.0 expressions, parsed into a tree (the subset the IATI rulesets and codelist
//! mapping use: paths on the child, attribute, parent, self and descendant axes, predicates,
//! the usual operators and the core functions; no namespaces axis, no variables).

use super::XPathError;
use crate::iati::names::{XML_NS, expanded_key};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Compare(CompareOp, Box<Expr>, Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    Negate(Box<Expr>),
    Union(Box<Expr>, Box<Expr>),
    Literal(String),
    Number(f64),
    Function(Func, Vec<Expr>),
    /// `@name` on the context node, for a name the schema knows: what most predicates and
    /// conditions test, so it is looked up directly instead of walked as a path.
    Attr(crate::iati::names::NameId),
    /// A location path, absolute or relative to the context node.
    Path {
        absolute: bool,
        steps: Vec<Step>,
    },
    /// `(expr)[pred]/steps`.
    Filter {
        primary: Box<Expr>,
        predicates: Vec<Expr>,
        steps: Vec<Step>,
    },
}

/// The core functions, resolved when the expression is parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Func {
    Count,
    Not,
    Boolean,
    True,
    False,
    Number,
    String,
    Concat,
    StartsWith,
    Contains,
    StringLength,
    NormalizeSpace,
    Sum,
    Floor,
    Ceiling,
    Round,
    Position,
    Last,
    Name,
    /// Evaluates to an empty node-set rather than failing the whole ruleset.
    Unknown(String),
}

impl Func {
    fn from_name(name: &str) -> Func {
        match name {
            "count" => Func::Count,
            "not" => Func::Not,
            "boolean" => Func::Boolean,
            "true" => Func::True,
            "false" => Func::False,
            "number" => Func::Number,
            "string" => Func::String,
            "concat" => Func::Concat,
            "starts-with" => Func::StartsWith,
            "contains" => Func::Contains,
            "string-length" => Func::StringLength,
            "normalize-space" => Func::NormalizeSpace,
            "sum" => Func::Sum,
            "floor" => Func::Floor,
            "ceiling" => Func::Ceiling,
            "round" => Func::Round,
            "position" => Func::Position,
            "last" => Func::Last,
            "name" | "local-name" => Func::Name,
            other => Func::Unknown(other.to_owned()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Axis {
    Child,
    Attribute,
    Descendant,
    DescendantOrSelf,
    Parent,
    Itself,
    Ancestor,
    AncestorOrSelf,
    FollowingSibling,
    PrecedingSibling,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum NodeTest {
    /// A name key as the tree interns it (`narrative`, `xml:lang`).
    Name(String),
    /// A name the schema knows, as its interned id.
    Bound(crate::iati::names::NameId),
    Any,
    Text,
    Node,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Step {
    pub(crate) axis: Axis,
    pub(crate) test: NodeTest,
    pub(crate) predicates: Vec<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Name(String),
    Literal(String),
    Number(f64),
    Slash,
    DoubleSlash,
    Dot,
    DotDot,
    At,
    Comma,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Pipe,
    Plus,
    Minus,
    Star,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    DoubleColon,
    Dollar,
}

fn tokenize(src: &str) -> Result<Vec<Token>, XPathError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let token = match c {
            ' ' | '\t' | '\n' | '\r' => {
                i += 1;
                continue;
            }
            '/' if next == Some('/') => Token::DoubleSlash,
            '/' => Token::Slash,
            '.' if next == Some('.') => Token::DotDot,
            '.' if next.is_some_and(|n| n.is_ascii_digit()) => {
                let start = i;
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                out.push(Token::Number(s.parse().unwrap_or(f64::NAN)));
                continue;
            }
            '.' => Token::Dot,
            '@' => Token::At,
            ',' => Token::Comma,
            '(' => Token::LParen,
            ')' => Token::RParen,
            '[' => Token::LBracket,
            ']' => Token::RBracket,
            '|' => Token::Pipe,
            '+' => Token::Plus,
            '-' => Token::Minus,
            '*' => Token::Star,
            '$' => Token::Dollar,
            '=' => Token::Eq,
            '!' if next == Some('=') => Token::Ne,
            '<' if next == Some('=') => Token::Le,
            '<' => Token::Lt,
            '>' if next == Some('=') => Token::Ge,
            '>' => Token::Gt,
            ':' if next == Some(':') => Token::DoubleColon,
            '\'' | '"' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&q| q == c)
                    .ok_or_else(|| XPathError::new(src, "unterminated string"))?;
                out.push(Token::Literal(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
                continue;
            }
            d if d.is_ascii_digit() => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                out.push(Token::Number(s.parse().unwrap_or(f64::NAN)));
                continue;
            }
            n if n.is_alphabetic() || n == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | '.'))
                {
                    i += 1;
                }
                // A prefixed name `xml:lang` (but not an axis `child::`).
                if i + 1 < chars.len()
                    && chars[i] == ':'
                    && chars[i + 1] != ':'
                    && (chars[i + 1].is_alphabetic() || chars[i + 1] == '*')
                {
                    i += 1;
                    while i < chars.len()
                        && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | '.' | '*'))
                    {
                        i += 1;
                    }
                }
                out.push(Token::Name(chars[start..i].iter().collect()));
                continue;
            }
            other => {
                return Err(XPathError::new(
                    src,
                    &format!("unexpected character '{other}'"),
                ));
            }
        };
        i += match token {
            Token::DoubleSlash
            | Token::DotDot
            | Token::Ne
            | Token::Le
            | Token::Ge
            | Token::DoubleColon => 2,
            _ => 1,
        };
        out.push(token);
    }
    Ok(out)
}

pub(crate) fn parse(src: &str) -> Result<Expr, XPathError> {
    let tokens = tokenize(src)?;
    let mut p = Parser {
        src,
        tokens,
        pos: 0,
    };
    let expr = p.or_expr()?;
    if p.pos != p.tokens.len() {
        return Err(XPathError::new(src, "unexpected trailing input"));
    }
    Ok(expr)
}

struct Parser<'s> {
    src: &'s str,
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_at(&self, offset: usize) -> Option<&Token> {
        self.tokens.get(self.pos + offset)
    }

    fn eat(&mut self, t: &Token) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Name(n)) if n == word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn error(&self, message: &str) -> XPathError {
        XPathError::new(self.src, message)
    }

    fn or_expr(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.and_expr()?;
        while self.eat_word("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and_expr()?));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.equality()?;
        while self.eat_word("and") {
            left = Expr::And(Box::new(left), Box::new(self.equality()?));
        }
        Ok(left)
    }

    fn equality(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.relational()?;
        loop {
            let op = match self.peek() {
                Some(Token::Eq) => CompareOp::Eq,
                Some(Token::Ne) => CompareOp::Ne,
                _ => return Ok(left),
            };
            self.pos += 1;
            left = Expr::Compare(op, Box::new(left), Box::new(self.relational()?));
        }
    }

    fn relational(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.additive()?;
        loop {
            let op = match self.peek() {
                Some(Token::Lt) => CompareOp::Lt,
                Some(Token::Le) => CompareOp::Le,
                Some(Token::Gt) => CompareOp::Gt,
                Some(Token::Ge) => CompareOp::Ge,
                _ => return Ok(left),
            };
            self.pos += 1;
            left = Expr::Compare(op, Box::new(left), Box::new(self.additive()?));
        }
    }

    fn additive(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Some(Token::Plus) => ArithOp::Add,
                Some(Token::Minus) => ArithOp::Sub,
                _ => return Ok(left),
            };
            self.pos += 1;
            left = Expr::Arith(op, Box::new(left), Box::new(self.multiplicative()?));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(Token::Star) => ArithOp::Mul,
                Some(Token::Name(n)) if n == "div" => ArithOp::Div,
                Some(Token::Name(n)) if n == "mod" => ArithOp::Mod,
                _ => return Ok(left),
            };
            self.pos += 1;
            left = Expr::Arith(op, Box::new(left), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr, XPathError> {
        if self.eat(&Token::Minus) {
            return Ok(Expr::Negate(Box::new(self.unary()?)));
        }
        self.union()
    }

    fn union(&mut self) -> Result<Expr, XPathError> {
        let mut left = self.path_expr()?;
        while self.eat(&Token::Pipe) {
            left = Expr::Union(Box::new(left), Box::new(self.path_expr()?));
        }
        Ok(left)
    }

    fn path_expr(&mut self) -> Result<Expr, XPathError> {
        match self.peek() {
            Some(Token::Slash) => {
                self.pos += 1;
                let steps = if self.starts_step() {
                    self.relative_steps()?
                } else {
                    Vec::new()
                };
                Ok(Expr::Path {
                    absolute: true,
                    steps,
                })
            }
            Some(Token::DoubleSlash) => {
                self.pos += 1;
                let mut steps = vec![descendant_or_self()];
                steps.extend(self.relative_steps()?);
                Ok(Expr::Path {
                    absolute: true,
                    steps,
                })
            }
            Some(Token::Literal(_) | Token::Number(_) | Token::LParen | Token::Dollar) => {
                self.filter_expr()
            }
            Some(Token::Name(_))
                if self.peek_at(1) == Some(&Token::LParen) && !self.is_node_type() =>
            {
                self.filter_expr()
            }
            _ => Ok(Expr::Path {
                absolute: false,
                steps: self.relative_steps()?,
            }),
        }
    }

    fn is_node_type(&self) -> bool {
        matches!(self.peek(), Some(Token::Name(n)) if matches!(n.as_str(), "text" | "node" | "comment" | "processing-instruction"))
    }

    fn starts_step(&self) -> bool {
        matches!(
            self.peek(),
            Some(Token::Name(_) | Token::Star | Token::At | Token::Dot | Token::DotDot)
        )
    }

    fn filter_expr(&mut self) -> Result<Expr, XPathError> {
        let primary = match self.peek().cloned() {
            Some(Token::Literal(s)) => {
                self.pos += 1;
                Expr::Literal(s)
            }
            Some(Token::Number(n)) => {
                self.pos += 1;
                Expr::Number(n)
            }
            Some(Token::LParen) => {
                self.pos += 1;
                let e = self.or_expr()?;
                if !self.eat(&Token::RParen) {
                    return Err(self.error("missing ')'"));
                }
                e
            }
            Some(Token::Name(name)) => {
                self.pos += 2;
                let mut args = Vec::new();
                if !self.eat(&Token::RParen) {
                    loop {
                        args.push(self.or_expr()?);
                        if self.eat(&Token::RParen) {
                            break;
                        }
                        if !self.eat(&Token::Comma) {
                            return Err(self.error("expected ',' or ')' in a function call"));
                        }
                    }
                }
                Expr::Function(Func::from_name(&name), args)
            }
            _ => return Err(self.error("variables are not supported")),
        };
        let mut predicates = Vec::new();
        while self.eat(&Token::LBracket) {
            predicates.push(self.or_expr()?);
            if !self.eat(&Token::RBracket) {
                return Err(self.error("missing ']'"));
            }
        }
        let mut steps = Vec::new();
        loop {
            if self.eat(&Token::Slash) {
                steps.push(self.step()?);
            } else if self.eat(&Token::DoubleSlash) {
                steps.push(descendant_or_self());
                steps.push(self.step()?);
            } else {
                break;
            }
        }
        if predicates.is_empty() && steps.is_empty() {
            return Ok(primary);
        }
        Ok(Expr::Filter {
            primary: Box::new(primary),
            predicates,
            steps,
        })
    }

    fn relative_steps(&mut self) -> Result<Vec<Step>, XPathError> {
        let mut steps = vec![self.step()?];
        loop {
            if self.eat(&Token::Slash) {
                steps.push(self.step()?);
            } else if self.eat(&Token::DoubleSlash) {
                steps.push(descendant_or_self());
                steps.push(self.step()?);
            } else {
                return Ok(steps);
            }
        }
    }

    fn step(&mut self) -> Result<Step, XPathError> {
        if self.eat(&Token::Dot) {
            return Ok(Step {
                axis: Axis::Itself,
                test: NodeTest::Node,
                predicates: Vec::new(),
            });
        }
        if self.eat(&Token::DotDot) {
            return Ok(Step {
                axis: Axis::Parent,
                test: NodeTest::Node,
                predicates: Vec::new(),
            });
        }
        let mut axis = Axis::Child;
        if self.eat(&Token::At) {
            axis = Axis::Attribute;
        } else if let (Some(Token::Name(name)), Some(Token::DoubleColon)) =
            (self.peek(), self.peek_at(1))
        {
            axis = match name.as_str() {
                "child" => Axis::Child,
                "attribute" => Axis::Attribute,
                "descendant" => Axis::Descendant,
                "descendant-or-self" => Axis::DescendantOrSelf,
                "parent" => Axis::Parent,
                "self" => Axis::Itself,
                "ancestor" => Axis::Ancestor,
                "ancestor-or-self" => Axis::AncestorOrSelf,
                "following-sibling" => Axis::FollowingSibling,
                "preceding-sibling" => Axis::PrecedingSibling,
                other => return Err(self.error(&format!("axis '{other}' is not supported"))),
            };
            self.pos += 2;
        }
        let test = match self.peek().cloned() {
            Some(Token::Star) => {
                self.pos += 1;
                NodeTest::Any
            }
            Some(Token::Name(name)) => {
                self.pos += 1;
                if self.peek() == Some(&Token::LParen) {
                    self.pos += 1;
                    if !self.eat(&Token::RParen) {
                        return Err(self.error("node tests take no arguments"));
                    }
                    match name.as_str() {
                        "text" => NodeTest::Text,
                        "node" => NodeTest::Node,
                        other => {
                            return Err(
                                self.error(&format!("node test '{other}()' is not supported"))
                            );
                        }
                    }
                } else {
                    NodeTest::Name(name_key(&name).map_err(|m| self.error(&m))?)
                }
            }
            _ => return Err(self.error("expected a step")),
        };
        let mut predicates = Vec::new();
        while self.eat(&Token::LBracket) {
            predicates.push(self.or_expr()?);
            if !self.eat(&Token::RBracket) {
                return Err(self.error("missing ']'"));
            }
        }
        Ok(Step {
            axis,
            test,
            predicates,
        })
    }
}

fn descendant_or_self() -> Step {
    Step {
        axis: Axis::DescendantOrSelf,
        test: NodeTest::Node,
        predicates: Vec::new(),
    }
}

/// The interner key of a name test; only the `xml` prefix is known to the rulesets.
fn name_key(name: &str) -> Result<String, String> {
    match name.split_once(':') {
        None => Ok(name.to_owned()),
        Some(("xml", local)) => Ok(expanded_key(Some(XML_NS), local)),
        Some((prefix, _)) => Err(format!("namespace prefix '{prefix}' is not bound")),
    }
}
