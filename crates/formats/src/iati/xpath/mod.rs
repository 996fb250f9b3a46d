//! XPath 1.0 over the buffered activity [`Tree`]: what the IATI rulesets and the codelist
//! mapping are written in.

mod eval;
mod parse;

pub(crate) use eval::{Item, Value, evaluate, evaluate_bool, recycle};
use parse::{Axis, Expr, NodeTest, Step};

use crate::iati::names::Interner;

/// An XPath expression that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad XPath '{expression}': {message}")]
pub struct XPathError {
    expression: String,
    message: String,
}

impl XPathError {
    fn new(expression: &str, message: &str) -> Self {
        XPathError {
            expression: expression.to_owned(),
            message: message.to_owned(),
        }
    }
}

/// A parsed expression with its names bound to interned ids where the schema knows them.
#[derive(Clone, Debug)]
pub(crate) struct XPath {
    expr: Expr,
}

impl XPath {
    pub(crate) fn compile(source: &str, names: &Interner) -> Result<XPath, XPathError> {
        let mut expr = parse::parse(source)?;
        bind(&mut expr, names);
        simplify(&mut expr);
        Ok(XPath { expr })
    }

    pub(crate) fn expr(&self) -> &Expr {
        &self.expr
    }
}

/// Resolves name tests to interned ids, so that evaluation compares integers.
fn bind(expr: &mut Expr, names: &Interner) {
    match expr {
        Expr::Or(a, b)
        | Expr::And(a, b)
        | Expr::Compare(_, a, b)
        | Expr::Arith(_, a, b)
        | Expr::Union(a, b) => {
            bind(a, names);
            bind(b, names);
        }
        Expr::Negate(a) => bind(a, names),
        Expr::Function(_, args) => args.iter_mut().for_each(|a| bind(a, names)),
        Expr::Path { steps, .. } => bind_steps(steps, names),
        Expr::Filter {
            primary,
            predicates,
            steps,
        } => {
            bind(primary, names);
            predicates.iter_mut().for_each(|p| bind(p, names));
            bind_steps(steps, names);
        }
        Expr::Literal(_) | Expr::Number(_) | Expr::Attr(_) => {}
    }
}

/// Rewrites, once, what evaluates the same in a cheaper way:
/// - `@name` (a bound name, no predicate) becomes a direct attribute look-up;
/// - `descendant-or-self::node()/child::name` (what `//name` means) becomes
///   `descendant::name` when the child step has no predicate (a predicate could count
///   positions among siblings, which the rewrite would change).
fn simplify(expr: &mut Expr) {
    match expr {
        Expr::Or(a, b)
        | Expr::And(a, b)
        | Expr::Compare(_, a, b)
        | Expr::Arith(_, a, b)
        | Expr::Union(a, b) => {
            simplify(a);
            simplify(b);
        }
        Expr::Negate(a) => simplify(a),
        Expr::Function(_, args) => args.iter_mut().for_each(simplify),
        Expr::Path { absolute, steps } => {
            simplify_steps(steps);
            if !*absolute
                && let [step] = steps.as_slice()
                && step.axis == Axis::Attribute
                && step.predicates.is_empty()
                && let NodeTest::Bound(id) = step.test
            {
                *expr = Expr::Attr(id);
            }
        }
        Expr::Filter {
            primary,
            predicates,
            steps,
        } => {
            simplify(primary);
            predicates.iter_mut().for_each(simplify);
            simplify_steps(steps);
        }
        Expr::Literal(_) | Expr::Number(_) | Expr::Attr(_) => {}
    }
}

fn simplify_steps(steps: &mut Vec<Step>) {
    for step in steps.iter_mut() {
        step.predicates.iter_mut().for_each(simplify);
    }
    let mut i = 0;
    while i + 1 < steps.len() {
        let (first, second) = (&steps[i], &steps[i + 1]);
        let any_descendant = first.axis == Axis::DescendantOrSelf
            && first.test == NodeTest::Node
            && first.predicates.is_empty();
        let element_child = second.axis == Axis::Child
            && second.predicates.is_empty()
            && matches!(
                second.test,
                NodeTest::Bound(_) | NodeTest::Name(_) | NodeTest::Any
            );
        if any_descendant && element_child {
            steps.remove(i);
            steps[i].axis = Axis::Descendant;
        }
        i += 1;
    }
}

fn bind_steps(steps: &mut [Step], names: &Interner) {
    for step in steps {
        if let NodeTest::Name(key) = &step.test
            && let Some(id) = names.get(key)
        {
            step.test = NodeTest::Bound(id);
        }
        step.predicates.iter_mut().for_each(|p| bind(p, names));
    }
}
