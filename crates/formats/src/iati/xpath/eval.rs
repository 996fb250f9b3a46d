//! Evaluation of parsed XPath over a [`Tree`], following XPath 1.0 for types, comparisons
//! and functions.

use super::XPath;
use super::parse::{ArithOp, Axis, CompareOp, Expr, NodeTest, Step};
use crate::iati::tree::{DOCUMENT, NONE, Tree};

/// A node of the tree as XPath sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Item {
    Node(u32),
    /// An attribute, by index in the tree's attribute list.
    Attr(u32),
    /// The character data directly inside an element.
    Text(u32),
}

impl Item {
    fn order_key(self, tree: &Tree) -> (u32, u8, u32) {
        match self {
            Item::Node(n) => (n, 0, 0),
            Item::Attr(a) => (tree.attrs[a as usize].owner, 1, a),
            Item::Text(n) => (n, 2, 0),
        }
    }

    /// The node's string value.
    pub(crate) fn string(self, tree: &Tree) -> String {
        match self {
            Item::Node(n) => tree.string_value(n),
            Item::Attr(a) => tree.str(&tree.attrs[a as usize].value).to_owned(),
            Item::Text(n) => tree.own_text(n).to_owned(),
        }
    }

    /// The string value without copying when it is a single piece of text.
    pub(crate) fn str_value<'t>(self, tree: &'t Tree) -> std::borrow::Cow<'t, str> {
        use std::borrow::Cow;
        match self {
            Item::Attr(a) => Cow::Borrowed(tree.str(&tree.attrs[a as usize].value)),
            Item::Text(n) => Cow::Borrowed(tree.own_text(n)),
            Item::Node(n) if n != DOCUMENT && tree.nodes[n as usize].first_child == NONE => {
                Cow::Borrowed(tree.own_text(n))
            }
            Item::Node(n) => Cow::Owned(tree.string_value(n)),
        }
    }

    /// The element the item is on (itself, or the owner of an attribute or text).
    pub(crate) fn element(self, tree: &Tree) -> u32 {
        match self {
            Item::Node(n) | Item::Text(n) => n,
            Item::Attr(a) => tree.attrs[a as usize].owner,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Nodes(Vec<Item>),
    Bool(bool),
    Num(f64),
    Str(String),
}

impl Value {
    pub(crate) fn boolean(&self) -> bool {
        match self {
            Value::Nodes(n) => !n.is_empty(),
            Value::Bool(b) => *b,
            Value::Num(n) => *n != 0.0 && !n.is_nan(),
            Value::Str(s) => !s.is_empty(),
        }
    }

    pub(crate) fn number(&self, tree: &Tree) -> f64 {
        match self {
            Value::Nodes(n) => n
                .first()
                .map_or(f64::NAN, |i| str_to_number(&i.string(tree))),
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Num(n) => *n,
            Value::Str(s) => str_to_number(s),
        }
    }

    pub(crate) fn string(&self, tree: &Tree) -> String {
        match self {
            Value::Nodes(n) => n.first().map_or_else(String::new, |i| i.string(tree)),
            Value::Bool(b) => b.to_string(),
            Value::Num(n) => number_to_string(*n),
            Value::Str(s) => s.clone(),
        }
    }

    pub(crate) fn into_nodes(self) -> Vec<Item> {
        match self {
            Value::Nodes(n) => n,
            _ => Vec::new(),
        }
    }
}

/// XPath's `number()` of a string: optional minus, digits, optional fraction; else NaN.
pub(crate) fn str_to_number(s: &str) -> f64 {
    let t = s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
    let body = t.strip_prefix('-').unwrap_or(t);
    let valid = !body.is_empty()
        && body.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && body.bytes().filter(|b| *b == b'.').count() <= 1
        && body != ".";
    if valid {
        t.parse().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

fn number_to_string(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.is_infinite() {
        if n > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

struct Ctx<'a, 'n> {
    tree: &'a Tree<'n>,
    item: Item,
    position: usize,
    size: usize,
}

/// Evaluates an expression with `item` as the context node.
pub(crate) fn evaluate(xpath: &XPath, tree: &Tree, item: Item) -> Value {
    let ctx = Ctx {
        tree,
        item,
        position: 1,
        size: 1,
    };
    eval(xpath.expr(), &ctx)
}

fn eval(expr: &Expr, ctx: &Ctx) -> Value {
    match expr {
        Expr::Or(a, b) => Value::Bool(eval(a, ctx).boolean() || eval(b, ctx).boolean()),
        Expr::And(a, b) => Value::Bool(eval(a, ctx).boolean() && eval(b, ctx).boolean()),
        Expr::Compare(op, a, b) => {
            Value::Bool(compare(*op, &eval(a, ctx), &eval(b, ctx), ctx.tree))
        }
        Expr::Arith(op, a, b) => {
            let (x, y) = (eval(a, ctx).number(ctx.tree), eval(b, ctx).number(ctx.tree));
            Value::Num(match op {
                ArithOp::Add => x + y,
                ArithOp::Sub => x - y,
                ArithOp::Mul => x * y,
                ArithOp::Div => x / y,
                ArithOp::Mod => x % y,
            })
        }
        Expr::Negate(a) => Value::Num(-eval(a, ctx).number(ctx.tree)),
        Expr::Union(a, b) => {
            let mut items = eval(a, ctx).into_nodes();
            items.extend(eval(b, ctx).into_nodes());
            sort_unique(&mut items, ctx.tree);
            Value::Nodes(items)
        }
        Expr::Literal(s) => Value::Str(s.clone()),
        Expr::Number(n) => Value::Num(*n),
        Expr::Function(name, args) => function(name, args, ctx),
        Expr::Path { absolute, steps } => {
            let start = if *absolute {
                Item::Node(DOCUMENT)
            } else {
                ctx.item
            };
            Value::Nodes(walk(vec![start], steps, ctx.tree))
        }
        Expr::Filter {
            primary,
            predicates,
            steps,
        } => {
            let mut items = eval(primary, ctx).into_nodes();
            for p in predicates {
                items = filter(items, p, ctx.tree);
            }
            Value::Nodes(walk(items, steps, ctx.tree))
        }
    }
}

fn sort_unique(items: &mut Vec<Item>, tree: &Tree) {
    items.sort_by_key(|i| i.order_key(tree));
    items.dedup();
}

fn walk(mut items: Vec<Item>, steps: &[Step], tree: &Tree) -> Vec<Item> {
    let mut next = Vec::new();
    for step in steps {
        next.clear();
        for &item in &items {
            let start = next.len();
            axis(step, item, tree, &mut next);
            for p in &step.predicates {
                filter_tail(&mut next, start, p, tree);
            }
        }
        if items.len() > 1
            || matches!(
                step.axis,
                Axis::Ancestor | Axis::AncestorOrSelf | Axis::PrecedingSibling
            )
        {
            sort_unique(&mut next, tree);
        }
        std::mem::swap(&mut items, &mut next);
    }
    items
}

/// Applies a predicate to `items[start..]`, in place.
fn filter_tail(items: &mut Vec<Item>, start: usize, predicate: &Expr, tree: &Tree) {
    let size = items.len() - start;
    let mut keep = start;
    for i in start..items.len() {
        let item = items[i];
        let ctx = Ctx {
            tree,
            item,
            position: i - start + 1,
            size,
        };
        let ok = match eval(predicate, &ctx) {
            Value::Num(n) => n == (i - start + 1) as f64,
            other => other.boolean(),
        };
        if ok {
            items[keep] = item;
            keep += 1;
        }
    }
    items.truncate(keep);
}

/// Keeps the items a predicate accepts; a number predicate selects by position.
fn filter(items: Vec<Item>, predicate: &Expr, tree: &Tree) -> Vec<Item> {
    let size = items.len();
    items
        .into_iter()
        .enumerate()
        .filter(|(i, item)| {
            let ctx = Ctx {
                tree,
                item: *item,
                position: i + 1,
                size,
            };
            match eval(predicate, &ctx) {
                Value::Num(n) => n == (i + 1) as f64,
                other => other.boolean(),
            }
        })
        .map(|(_, item)| item)
        .collect()
}

fn matches_element(test: &NodeTest, node: u32, tree: &Tree) -> bool {
    if node == DOCUMENT {
        return matches!(test, NodeTest::Node);
    }
    let name = tree.nodes[node as usize].name;
    match test {
        NodeTest::Bound(id) => name == *id,
        NodeTest::Name(key) => tree.lookup(key) == Some(name),
        NodeTest::Any | NodeTest::Node => true,
        NodeTest::Text => false,
    }
}

/// Pushes what `step`'s axis and node test select from `item`, in axis order.
fn axis(step: &Step, item: Item, tree: &Tree, out: &mut Vec<Item>) {
    let test = &step.test;
    let wants_text = matches!(test, NodeTest::Text | NodeTest::Node);
    let text_of = |n: u32, out: &mut Vec<Item>| {
        if wants_text && n != DOCUMENT && !tree.own_text(n).is_empty() {
            out.push(Item::Text(n));
        }
    };
    match (step.axis, item) {
        (Axis::Child, Item::Node(n)) => {
            text_of(n, out);
            out.extend(
                tree.children(n)
                    .filter(|c| matches_element(test, *c, tree))
                    .map(Item::Node),
            );
        }
        (Axis::Attribute, Item::Node(n)) if n != DOCUMENT => {
            let range = tree.nodes[n as usize].attrs.clone();
            for a in range {
                let name = tree.attrs[a as usize].name;
                let ok = match test {
                    NodeTest::Bound(id) => name == *id,
                    NodeTest::Name(key) => tree.lookup(key) == Some(name),
                    NodeTest::Any | NodeTest::Node => !tree
                        .name(name)
                        .starts_with("{http://www.w3.org/2000/xmlns/}"),
                    NodeTest::Text => false,
                };
                if ok {
                    out.push(Item::Attr(a));
                }
            }
        }
        (Axis::Descendant | Axis::DescendantOrSelf, Item::Node(n)) => {
            if step.axis == Axis::DescendantOrSelf && matches_element(test, n, tree) {
                out.push(Item::Node(n));
            }
            descendants(n, test, tree, out);
        }
        (Axis::DescendantOrSelf | Axis::Itself, other) => {
            let ok = match other {
                Item::Node(n) => matches_element(test, n, tree),
                Item::Attr(_) => matches!(test, NodeTest::Node),
                Item::Text(_) => wants_text,
            };
            if ok {
                out.push(other);
            }
        }
        (Axis::Parent, _) => {
            let parent = match item {
                Item::Node(n) => tree.nodes[n as usize].parent,
                Item::Attr(_) | Item::Text(_) => item.element(tree),
            };
            if parent != NONE && matches_element(test, parent, tree) {
                out.push(Item::Node(parent));
            }
        }
        (Axis::Ancestor | Axis::AncestorOrSelf, _) => {
            let mut n = match item {
                Item::Node(n) if step.axis == Axis::Ancestor => tree.nodes[n as usize].parent,
                Item::Node(n) => n,
                other => other.element(tree),
            };
            while n != NONE {
                if matches_element(test, n, tree) {
                    out.push(Item::Node(n));
                }
                n = tree.nodes[n as usize].parent;
            }
        }
        (Axis::FollowingSibling | Axis::PrecedingSibling, Item::Node(n)) if n != DOCUMENT => {
            let parent = tree.nodes[n as usize].parent;
            let siblings: Vec<u32> = tree.children(parent).collect();
            let me = siblings.iter().position(|s| *s == n).unwrap_or(0);
            if step.axis == Axis::FollowingSibling {
                out.extend(
                    siblings[me + 1..]
                        .iter()
                        .filter(|s| matches_element(test, **s, tree))
                        .map(|s| Item::Node(*s)),
                );
            } else {
                out.extend(
                    siblings[..me]
                        .iter()
                        .rev()
                        .filter(|s| matches_element(test, **s, tree))
                        .map(|s| Item::Node(*s)),
                );
            }
        }
        _ => {}
    }
}

fn descendants(n: u32, test: &NodeTest, tree: &Tree, out: &mut Vec<Item>) {
    let wants_text = matches!(test, NodeTest::Text | NodeTest::Node);
    if wants_text && n != DOCUMENT && !tree.own_text(n).is_empty() {
        out.push(Item::Text(n));
    }
    for c in tree.children(n) {
        if matches_element(test, c, tree) {
            out.push(Item::Node(c));
        }
        descendants(c, test, tree, out);
    }
}

fn compare(op: CompareOp, a: &Value, b: &Value, tree: &Tree) -> bool {
    use Value::*;
    match (a, b) {
        (Nodes(x), Nodes(y)) => {
            let ys: Vec<String> = y.iter().map(|i| i.string(tree)).collect();
            x.iter().any(|i| {
                let s = i.string(tree);
                ys.iter()
                    .any(|t| compare_atoms(op, &Str(s.clone()), &Str(t.clone()), tree))
            })
        }
        (Nodes(x), Bool(_)) => compare_atoms(op, &Bool(!x.is_empty()), b, tree),
        (Bool(_), Nodes(y)) => compare_atoms(op, a, &Bool(!y.is_empty()), tree),
        (Nodes(x), other) => x
            .iter()
            .any(|i| compare_atoms(op, &node_atom(*i, other, tree), other, tree)),
        (other, Nodes(y)) => y
            .iter()
            .any(|i| compare_atoms(op, other, &node_atom(*i, other, tree), tree)),
        _ => compare_atoms(op, a, b, tree),
    }
}

/// A node compared with a number is a number; with a string, a string.
fn node_atom(item: Item, other: &Value, tree: &Tree) -> Value {
    match other {
        Value::Num(_) => Value::Num(str_to_number(&item.str_value(tree))),
        _ => Value::Str(item.str_value(tree).into_owned()),
    }
}

fn compare_atoms(op: CompareOp, a: &Value, b: &Value, tree: &Tree) -> bool {
    use Value::*;
    match op {
        CompareOp::Eq | CompareOp::Ne => {
            let equal = match (a, b) {
                (Bool(_), _) | (_, Bool(_)) => a.boolean() == b.boolean(),
                (Num(_), _) | (_, Num(_)) => a.number(tree) == b.number(tree),
                _ => a.string(tree) == b.string(tree),
            };
            equal == (op == CompareOp::Eq)
        }
        _ => {
            let (x, y) = (a.number(tree), b.number(tree));
            match op {
                CompareOp::Lt => x < y,
                CompareOp::Le => x <= y,
                CompareOp::Gt => x > y,
                _ => x >= y,
            }
        }
    }
}

fn function(name: &str, args: &[Expr], ctx: &Ctx) -> Value {
    let tree = ctx.tree;
    let arg = |i: usize| args.get(i).map(|a| eval(a, ctx));
    let string_arg = |i: usize| match arg(i) {
        Some(v) => v.string(tree),
        None => ctx.item.string(tree),
    };
    match name {
        "count" => Value::Num(arg(0).map_or(0, |v| v.into_nodes().len()) as f64),
        "not" => Value::Bool(!arg(0).is_some_and(|v| v.boolean())),
        "boolean" => Value::Bool(arg(0).is_some_and(|v| v.boolean())),
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "number" => Value::Num(match arg(0) {
            Some(v) => v.number(tree),
            None => str_to_number(&ctx.item.string(tree)),
        }),
        "string" => Value::Str(string_arg(0)),
        "concat" => Value::Str((0..args.len()).map(string_arg).collect()),
        "starts-with" => Value::Bool(string_arg(0).starts_with(&string_arg(1))),
        "contains" => Value::Bool(string_arg(0).contains(&string_arg(1))),
        "string-length" => Value::Num(string_arg(0).chars().count() as f64),
        "normalize-space" => Value::Str(
            string_arg(0)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        ),
        "sum" => Value::Num(
            arg(0)
                .map(|v| {
                    v.into_nodes()
                        .iter()
                        .map(|i| str_to_number(&i.string(tree)))
                        .sum()
                })
                .unwrap_or(0.0),
        ),
        "floor" => Value::Num(arg(0).map_or(f64::NAN, |v| v.number(tree)).floor()),
        "ceiling" => Value::Num(arg(0).map_or(f64::NAN, |v| v.number(tree)).ceil()),
        "round" => Value::Num(arg(0).map_or(f64::NAN, |v| v.number(tree)).round()),
        "position" => Value::Num(ctx.position as f64),
        "last" => Value::Num(ctx.size as f64),
        "name" | "local-name" => {
            let item = match arg(0) {
                Some(v) => v.into_nodes().first().copied(),
                None => Some(ctx.item),
            };
            let name = match item {
                Some(Item::Node(n)) if n != DOCUMENT => {
                    tree.name(tree.nodes[n as usize].name).to_owned()
                }
                Some(Item::Attr(a)) => tree.name(tree.attrs[a as usize].name).to_owned(),
                _ => String::new(),
            };
            Value::Str(name)
        }
        // Unknown functions evaluate to nothing rather than failing the whole ruleset.
        _ => Value::Nodes(Vec::new()),
    }
}
