//! XPath 1.0 over the buffered activity [`Tree`]: what the IATI rulesets and the codelist
//! mapping are written in.

mod eval;
mod parse;

pub(crate) use eval::{Item, Value, evaluate};
use parse::{Expr, NodeTest, Step};

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
        Expr::Literal(_) | Expr::Number(_) => {}
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
