//! Evaluation of parsed XPath over a [`Tree`], following XPath 1.0 for types, comparisons
//! and functions.
//!
//! Most of what the rulesets evaluate are short child paths with attribute tests, once per
//! activity, over a few dozen elements. The evaluator keeps that cheap: node-sets reuse
//! buffers from a small per-thread pool, attribute tests are direct look-ups
//! ([`Expr::Attr`]), comparisons borrow the strings they compare, boolean contexts never
//! build a value, and child steps from a node-set in document order skip the re-sort.

use std::borrow::Cow;
use std::cell::RefCell;

use super::XPath;
use super::parse::{ArithOp, Axis, CompareOp, Expr, Func, NodeTest, Step};
use crate::iati::names::NameId;
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
    pub(crate) fn str_value<'t>(self, tree: &'t Tree) -> Cow<'t, str> {
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
                .map_or(f64::NAN, |i| str_to_number(&i.str_value(tree))),
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

    /// Gives a node-set's buffer back to the pool.
    fn recycle(self) {
        if let Value::Nodes(n) = self {
            recycle(n);
        }
    }
}

thread_local! {
    /// Spare node-set buffers: evaluation takes from here instead of allocating.
    static POOL: RefCell<Vec<Vec<Item>>> = const { RefCell::new(Vec::new()) };
}

/// Buffers kept at most, and the largest one kept (so memory stays small after a huge set).
const POOL_SIZE: usize = 64;
const POOL_MAX_CAPACITY: usize = 4096;

fn take_vec() -> Vec<Item> {
    POOL.with(|p| p.borrow_mut().pop()).unwrap_or_default()
}

/// Returns a node-set buffer (from [`Value::into_nodes`]) for later evaluations to reuse.
pub(crate) fn recycle(mut items: Vec<Item>) {
    if items.capacity() == 0 || items.capacity() > POOL_MAX_CAPACITY {
        return;
    }
    items.clear();
    POOL.with(|p| {
        let mut pool = p.borrow_mut();
        if pool.len() < POOL_SIZE {
            pool.push(items);
        }
    });
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

impl<'a, 'n> Ctx<'a, 'n> {
    fn at(tree: &'a Tree<'n>, item: Item) -> Self {
        Ctx {
            tree,
            item,
            position: 1,
            size: 1,
        }
    }
}

/// Evaluates an expression with `item` as the context node.
pub(crate) fn evaluate(xpath: &XPath, tree: &Tree, item: Item) -> Value {
    eval(xpath.expr(), &Ctx::at(tree, item))
}

/// `boolean(expression)` with `item` as the context node, without building the value.
pub(crate) fn evaluate_bool(xpath: &XPath, tree: &Tree, item: Item) -> bool {
    eval_bool(xpath.expr(), &Ctx::at(tree, item))
}

fn eval(expr: &Expr, ctx: &Ctx) -> Value {
    match expr {
        Expr::Or(..) | Expr::And(..) | Expr::Compare(..) => Value::Bool(eval_bool(expr, ctx)),
        Expr::Arith(op, a, b) => {
            let (x, y) = (eval_number(a, ctx), eval_number(b, ctx));
            Value::Num(match op {
                ArithOp::Add => x + y,
                ArithOp::Sub => x - y,
                ArithOp::Mul => x * y,
                ArithOp::Div => x / y,
                ArithOp::Mod => x % y,
            })
        }
        Expr::Negate(a) => Value::Num(-eval_number(a, ctx)),
        Expr::Union(a, b) => {
            let mut items = eval(a, ctx).into_nodes();
            let other = eval(b, ctx).into_nodes();
            items.extend_from_slice(&other);
            recycle(other);
            sort_unique(&mut items, ctx.tree);
            Value::Nodes(items)
        }
        Expr::Literal(s) => Value::Str(s.clone()),
        Expr::Number(n) => Value::Num(*n),
        Expr::Function(func, args) => function(func, args, ctx),
        Expr::Attr(id) => {
            let mut items = take_vec();
            items.extend(attrs_named(ctx.item, *id, ctx.tree).map(Item::Attr));
            Value::Nodes(items)
        }
        Expr::Path { absolute, steps } => {
            let start = if *absolute {
                Item::Node(DOCUMENT)
            } else {
                ctx.item
            };
            let mut items = take_vec();
            items.push(start);
            Value::Nodes(walk(items, true, steps, ctx.tree))
        }
        Expr::Filter {
            primary,
            predicates,
            steps,
        } => {
            let mut items = eval(primary, ctx).into_nodes();
            for p in predicates {
                filter_tail(&mut items, 0, p, ctx.tree);
            }
            // A node-set value is always in document order without duplicates, but it may
            // hold an element and one of its descendants.
            let flat = items.len() <= 1;
            Value::Nodes(walk(items, flat, steps, ctx.tree))
        }
    }
}

/// `boolean(eval(expr))`, short-circuiting and without building values where it can.
fn eval_bool(expr: &Expr, ctx: &Ctx) -> bool {
    match expr {
        Expr::Or(a, b) => eval_bool(a, ctx) || eval_bool(b, ctx),
        Expr::And(a, b) => eval_bool(a, ctx) && eval_bool(b, ctx),
        Expr::Compare(op, a, b) => compare_exprs(*op, a, b, ctx),
        Expr::Attr(id) => attrs_named(ctx.item, *id, ctx.tree).next().is_some(),
        Expr::Literal(s) => !s.is_empty(),
        Expr::Number(n) => *n != 0.0 && !n.is_nan(),
        Expr::Function(func @ (Func::Not | Func::Boolean | Func::True | Func::False), args) => {
            bool_function(func, args, ctx)
        }
        _ => {
            let value = eval(expr, ctx);
            let b = value.boolean();
            value.recycle();
            b
        }
    }
}

/// `not()`, `boolean()`, `true()` and `false()`.
fn bool_function(func: &Func, args: &[Expr], ctx: &Ctx) -> bool {
    match func {
        Func::Not => !args.first().is_some_and(|a| eval_bool(a, ctx)),
        Func::Boolean => args.first().is_some_and(|a| eval_bool(a, ctx)),
        Func::True => true,
        _ => false,
    }
}

/// `number(eval(expr))`.
fn eval_number(expr: &Expr, ctx: &Ctx) -> f64 {
    match expr {
        Expr::Number(n) => *n,
        Expr::Literal(s) => str_to_number(s),
        Expr::Attr(id) => attrs_named(ctx.item, *id, ctx.tree)
            .next()
            .map_or(f64::NAN, |a| {
                str_to_number(ctx.tree.str(&ctx.tree.attrs[a as usize].value))
            }),
        _ => {
            let value = eval(expr, ctx);
            let n = value.number(ctx.tree);
            value.recycle();
            n
        }
    }
}

/// The attributes of the context element named `id`, in document order.
fn attrs_named<'t>(item: Item, id: NameId, tree: &'t Tree) -> impl Iterator<Item = u32> + 't {
    let range = match item {
        Item::Node(n) if n != DOCUMENT => tree.nodes[n as usize].attrs.clone(),
        _ => 0..0,
    };
    range.filter(move |a| tree.attrs[*a as usize].name == id)
}

fn sort_unique(items: &mut Vec<Item>, tree: &Tree) {
    items.sort_by_key(|i| i.order_key(tree));
    items.dedup();
}

/// Applies `steps` to a node-set in document order. `flat` says no item of it is an
/// ancestor of another: then child, attribute and self steps keep document order and need
/// no re-sort (the children of one node all come before those of a later non-ancestor).
fn walk(mut items: Vec<Item>, mut flat: bool, steps: &[Step], tree: &Tree) -> Vec<Item> {
    // A second buffer only for steps from several nodes: from one node (the commonest: a
    // child path from the activity), the step's result replaces it in the same buffer.
    let mut spare: Option<Vec<Item>> = None;
    for step in steps {
        let keeps_order = flat && matches!(step.axis, Axis::Child | Axis::Attribute | Axis::Itself);
        let reverse = matches!(
            step.axis,
            Axis::Ancestor | Axis::AncestorOrSelf | Axis::PrecedingSibling
        );
        if let [item] = items[..] {
            items.clear();
            axis(step, item, tree, &mut items);
            for p in &step.predicates {
                filter_tail(&mut items, 0, p, tree);
            }
            if reverse {
                sort_unique(&mut items, tree);
            }
        } else {
            let next = spare.get_or_insert_with(take_vec);
            next.clear();
            for &item in &items {
                let start = next.len();
                axis(step, item, tree, next);
                for p in &step.predicates {
                    filter_tail(next, start, p, tree);
                }
            }
            if (items.len() > 1 && !keeps_order) || reverse {
                sort_unique(next, tree);
            }
            std::mem::swap(&mut items, next);
        }
        flat = items.len() <= 1 || keeps_order || step.axis == Axis::Attribute;
    }
    if let Some(spare) = spare {
        recycle(spare);
    }
    items
}

/// Whether a predicate holds for the item at `position` (1-based): a number selects by
/// position, anything else by its boolean value.
fn predicate_holds(predicate: &Expr, ctx: &Ctx) -> bool {
    match predicate {
        Expr::Or(..)
        | Expr::And(..)
        | Expr::Compare(..)
        | Expr::Attr(_)
        | Expr::Literal(_)
        | Expr::Function(Func::Not | Func::Boolean | Func::True | Func::False, _) => {
            eval_bool(predicate, ctx)
        }
        _ => {
            let value = eval(predicate, ctx);
            let ok = match &value {
                Value::Num(n) => *n == ctx.position as f64,
                other => other.boolean(),
            };
            value.recycle();
            ok
        }
    }
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
        if predicate_holds(predicate, &ctx) {
            items[keep] = item;
            keep += 1;
        }
    }
    items.truncate(keep);
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
        (Axis::Child, Item::Node(n)) => match test {
            NodeTest::Bound(id) => {
                if let Some(children) = tree.children_named(n, *id) {
                    out.extend(children.iter().map(|(_, c)| Item::Node(*c)));
                    return;
                }
                let mut c = tree.nodes[n as usize].first_child;
                while c != NONE {
                    let node = &tree.nodes[c as usize];
                    if node.name == *id {
                        out.push(Item::Node(c));
                    }
                    c = node.next_sibling;
                }
            }
            _ => {
                text_of(n, out);
                out.extend(
                    tree.children(n)
                        .filter(|c| matches_element(test, *c, tree))
                        .map(Item::Node),
                );
            }
        },
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
            match test {
                // Elements only: a scan of the subtree's node numbers.
                NodeTest::Bound(id) => out.extend(
                    tree.descendant_range(n)
                        .filter(|d| tree.nodes[*d as usize].name == *id)
                        .map(Item::Node),
                ),
                _ => descendants(n, test, tree, out),
            }
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

/// A comparison operand that is not a node-set, borrowed where it can be.
#[derive(Clone, Copy)]
enum Atom<'a> {
    Bool(bool),
    Num(f64),
    Str(&'a str),
}

impl Atom<'_> {
    fn boolean(self) -> bool {
        match self {
            Atom::Bool(b) => b,
            Atom::Num(n) => n != 0.0 && !n.is_nan(),
            Atom::Str(s) => !s.is_empty(),
        }
    }

    fn number(self) -> f64 {
        match self {
            Atom::Bool(b) => f64::from(u8::from(b)),
            Atom::Num(n) => n,
            Atom::Str(s) => str_to_number(s),
        }
    }
}

/// One side of a comparison.
enum Side<'a> {
    Nodes(&'a [Item]),
    Atom(Atom<'a>),
}

/// What an operand evaluated to, kept alive while the comparison borrows it.
enum Held {
    /// A literal or number, borrowed from the expression itself.
    Constant,
    /// A direct attribute look-up: no attribute, or the one found.
    Attr(Option<Item>),
    Value(Value),
}

fn hold(expr: &Expr, ctx: &Ctx) -> Held {
    match expr {
        Expr::Literal(_) | Expr::Number(_) => Held::Constant,
        Expr::Attr(id) => {
            let mut found = attrs_named(ctx.item, *id, ctx.tree);
            match (found.next(), found.next()) {
                (None, _) => Held::Attr(None),
                (Some(a), None) => Held::Attr(Some(Item::Attr(a))),
                _ => Held::Value(eval(expr, ctx)),
            }
        }
        _ => Held::Value(eval(expr, ctx)),
    }
}

fn side<'a>(expr: &'a Expr, held: &'a Held) -> Side<'a> {
    match (held, expr) {
        (Held::Value(Value::Nodes(n)), _) => Side::Nodes(n),
        (Held::Value(Value::Bool(b)), _) => Side::Atom(Atom::Bool(*b)),
        (Held::Value(Value::Num(n)), _) => Side::Atom(Atom::Num(*n)),
        (Held::Value(Value::Str(s)), _) => Side::Atom(Atom::Str(s)),
        (Held::Attr(Some(item)), _) => Side::Nodes(std::slice::from_ref(item)),
        (Held::Constant, Expr::Literal(s)) => Side::Atom(Atom::Str(s)),
        (Held::Constant, Expr::Number(n)) => Side::Atom(Atom::Num(*n)),
        (Held::Attr(None) | Held::Constant, _) => Side::Nodes(&[]),
    }
}

fn compare_exprs(op: CompareOp, a: &Expr, b: &Expr, ctx: &Ctx) -> bool {
    // An attribute compared with a constant (`@vocabulary = '1'`, `@percentage = 100`), the
    // commonest comparison of the rulesets and codelist conditions: straight to the values.
    let tree = ctx.tree;
    let value = |a: u32| tree.str(&tree.attrs[a as usize].value);
    match (a, b) {
        (Expr::Attr(id), Expr::Literal(s)) => {
            return attrs_named(ctx.item, *id, tree)
                .any(|at| compare_atoms(op, Atom::Str(value(at)), Atom::Str(s)));
        }
        (Expr::Literal(s), Expr::Attr(id)) => {
            return attrs_named(ctx.item, *id, tree)
                .any(|at| compare_atoms(op, Atom::Str(s), Atom::Str(value(at))));
        }
        (Expr::Attr(id), Expr::Number(n)) => {
            return attrs_named(ctx.item, *id, tree)
                .any(|at| compare_atoms(op, Atom::Num(str_to_number(value(at))), Atom::Num(*n)));
        }
        (Expr::Number(n), Expr::Attr(id)) => {
            return attrs_named(ctx.item, *id, tree)
                .any(|at| compare_atoms(op, Atom::Num(*n), Atom::Num(str_to_number(value(at)))));
        }
        _ => {}
    }
    let (held_a, held_b) = (hold(a, ctx), hold(b, ctx));
    let result = compare(op, side(a, &held_a), side(b, &held_b), ctx.tree);
    for held in [held_a, held_b] {
        if let Held::Value(v) = held {
            v.recycle();
        }
    }
    result
}

fn compare(op: CompareOp, a: Side, b: Side, tree: &Tree) -> bool {
    match (a, b) {
        (Side::Nodes(x), Side::Nodes(y)) => {
            let ys: Vec<Cow<str>> = y.iter().map(|i| i.str_value(tree)).collect();
            x.iter().any(|i| {
                let s = i.str_value(tree);
                ys.iter()
                    .any(|t| compare_atoms(op, Atom::Str(&s), Atom::Str(t)))
            })
        }
        (Side::Nodes(x), Side::Atom(other @ Atom::Bool(_))) => {
            compare_atoms(op, Atom::Bool(!x.is_empty()), other)
        }
        (Side::Atom(other @ Atom::Bool(_)), Side::Nodes(y)) => {
            compare_atoms(op, other, Atom::Bool(!y.is_empty()))
        }
        // A node compared with a number is a number; with a string, a string.
        (Side::Nodes(x), Side::Atom(other)) => x.iter().any(|i| {
            let s = i.str_value(tree);
            compare_atoms(op, node_atom(&s, other), other)
        }),
        (Side::Atom(other), Side::Nodes(y)) => y.iter().any(|i| {
            let s = i.str_value(tree);
            compare_atoms(op, other, node_atom(&s, other))
        }),
        (Side::Atom(x), Side::Atom(y)) => compare_atoms(op, x, y),
    }
}

fn node_atom<'a>(value: &'a str, other: Atom) -> Atom<'a> {
    match other {
        Atom::Num(_) => Atom::Num(str_to_number(value)),
        _ => Atom::Str(value),
    }
}

fn compare_atoms(op: CompareOp, a: Atom, b: Atom) -> bool {
    match op {
        CompareOp::Eq | CompareOp::Ne => {
            let equal = match (a, b) {
                (Atom::Bool(_), _) | (_, Atom::Bool(_)) => a.boolean() == b.boolean(),
                (Atom::Num(_), _) | (_, Atom::Num(_)) => a.number() == b.number(),
                (Atom::Str(x), Atom::Str(y)) => x == y,
            };
            equal == (op == CompareOp::Eq)
        }
        _ => {
            let (x, y) = (a.number(), b.number());
            match op {
                CompareOp::Lt => x < y,
                CompareOp::Le => x <= y,
                CompareOp::Gt => x > y,
                _ => x >= y,
            }
        }
    }
}

/// How many nodes an expression selects (0 when it is not a node-set).
fn count(expr: &Expr, ctx: &Ctx) -> usize {
    match expr {
        Expr::Attr(id) => attrs_named(ctx.item, *id, ctx.tree).count(),
        _ => {
            let value = eval(expr, ctx);
            let n = match &value {
                Value::Nodes(n) => n.len(),
                _ => 0,
            };
            value.recycle();
            n
        }
    }
}

fn function(func: &Func, args: &[Expr], ctx: &Ctx) -> Value {
    let tree = ctx.tree;
    let arg = |i: usize| args.get(i).map(|a| eval(a, ctx));
    let string_arg = |i: usize| match arg(i) {
        Some(v) => v.string(tree),
        None => ctx.item.string(tree),
    };
    match func {
        Func::Count => Value::Num(args.first().map_or(0, |a| count(a, ctx)) as f64),
        Func::Not | Func::Boolean | Func::True | Func::False => {
            Value::Bool(bool_function(func, args, ctx))
        }
        Func::Number => Value::Num(match args.first() {
            Some(a) => eval_number(a, ctx),
            None => str_to_number(&ctx.item.str_value(tree)),
        }),
        Func::String => Value::Str(string_arg(0)),
        Func::Concat => Value::Str((0..args.len()).map(string_arg).collect()),
        Func::StartsWith => Value::Bool(string_arg(0).starts_with(&string_arg(1))),
        Func::Contains => Value::Bool(string_arg(0).contains(&string_arg(1))),
        Func::StringLength => Value::Num(string_arg(0).chars().count() as f64),
        Func::NormalizeSpace => Value::Str(
            string_arg(0)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Func::Sum => Value::Num(
            arg(0)
                .map(|v| {
                    let items = v.into_nodes();
                    let total = items
                        .iter()
                        .map(|i| str_to_number(&i.str_value(tree)))
                        .sum();
                    recycle(items);
                    total
                })
                .unwrap_or(0.0),
        ),
        Func::Floor => Value::Num(
            args.first()
                .map_or(f64::NAN, |a| eval_number(a, ctx))
                .floor(),
        ),
        Func::Ceiling => Value::Num(
            args.first()
                .map_or(f64::NAN, |a| eval_number(a, ctx))
                .ceil(),
        ),
        Func::Round => Value::Num(
            args.first()
                .map_or(f64::NAN, |a| eval_number(a, ctx))
                .round(),
        ),
        Func::Position => Value::Num(ctx.position as f64),
        Func::Last => Value::Num(ctx.size as f64),
        Func::Name => {
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
        Func::Unknown(_) => Value::Nodes(Vec::new()),
    }
}
