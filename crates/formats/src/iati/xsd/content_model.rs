//! Content models (sequence / choice with min and max occurrences) compiled into automata.
//!
//! We build the Glushkov automaton of the particle tree: one state per element or wildcard
//! occurrence, plus a start state. XML Schema's Unique Particle Attribution rule guarantees
//! that in every state at most one transition matches a given child element, so running the
//! automaton is a single table look-up per child, however large the file.

use crate::iati::names::NameId;

/// How often a particle may occur; `max: None` is `unbounded`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Occurs {
    pub(crate) min: u32,
    pub(crate) max: Option<u32>,
}

impl Occurs {
    pub(crate) const ONCE: Occurs = Occurs {
        min: 1,
        max: Some(1),
    };
}

/// Occurrence bounds above this are expanded as "min copies then unbounded", which accepts a
/// little more than the schema says; no IATI schema comes near it.
const MAX_EXPANDED_OCCURS: u32 = 64;

/// A content model as written in the schema.
#[derive(Clone, Debug)]
pub(crate) enum Particle {
    Element {
        name: NameId,
        decl: u32,
        occurs: Occurs,
    },
    Any {
        wildcard: u32,
        occurs: Occurs,
    },
    Sequence(Vec<Particle>, Occurs),
    Choice(Vec<Particle>, Occurs),
}

/// What a matched child is: a declared element or a wildcard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Term {
    Element { name: NameId, decl: u32 },
    Any { wildcard: u32 },
}

#[derive(Debug, Default)]
pub(crate) struct State {
    /// Element transitions, sorted by name: (name, position).
    by_name: Vec<(NameId, u32)>,
    /// Wildcard transitions in schema order: (wildcard, position).
    wildcards: Vec<(u32, u32)>,
    pub(crate) accepting: bool,
}

/// A compiled content model. State 0 is the start; state `p + 1` is "just matched position p".
#[derive(Debug)]
pub(crate) struct Automaton {
    positions: Vec<Term>,
    states: Vec<State>,
}

impl Automaton {
    pub(crate) fn start(&self) -> u32 {
        0
    }

    pub(crate) fn is_accepting(&self, state: u32) -> bool {
        self.states.get(state as usize).is_some_and(|s| s.accepting)
    }

    /// The transition for an element named `name` (when it is in no namespace) or matching a
    /// wildcard (`wildcard_matches` decides); returns the new state and what matched.
    pub(crate) fn step(
        &self,
        state: u32,
        name: Option<NameId>,
        mut wildcard_matches: impl FnMut(u32) -> bool,
    ) -> Option<(u32, Term)> {
        let s = self.states.get(state as usize)?;
        if let Some(name) = name
            && let Ok(i) = s.by_name.binary_search_by_key(&name, |(n, _)| *n)
        {
            let pos = s.by_name[i].1;
            return Some((pos + 1, self.positions[pos as usize]));
        }
        s.wildcards
            .iter()
            .find(|(w, _)| wildcard_matches(*w))
            .map(|(_, pos)| (pos + 1, self.positions[*pos as usize]))
    }

    /// For error recovery: a position anywhere in the model matching the child, preferring the
    /// first one after the current state.
    pub(crate) fn find_anywhere(
        &self,
        state: u32,
        name: Option<NameId>,
        mut wildcard_matches: impl FnMut(u32) -> bool,
    ) -> Option<(u32, Term)> {
        let matches = |term: &Term, wm: &mut dyn FnMut(u32) -> bool| match term {
            Term::Element { name: n, .. } => Some(*n) == name,
            Term::Any { wildcard } => name.is_none() && wm(*wildcard),
        };
        let after = self
            .positions
            .iter()
            .enumerate()
            .skip(state as usize)
            .find(|(_, t)| matches(t, &mut wildcard_matches));
        let found = after.or_else(|| {
            self.positions
                .iter()
                .enumerate()
                .find(|(_, t)| matches(t, &mut wildcard_matches))
        });
        found.map(|(pos, term)| (pos as u32 + 1, *term))
    }

    /// What may come next in `state`: element names and wildcards, for messages.
    pub(crate) fn expected(&self, state: u32) -> (Vec<NameId>, Vec<u32>) {
        let Some(s) = self.states.get(state as usize) else {
            return (Vec::new(), Vec::new());
        };
        // Keep schema order for readable messages.
        let mut by_pos: Vec<(u32, NameId)> = s.by_name.iter().map(|(n, p)| (*p, *n)).collect();
        by_pos.sort_unstable();
        let mut names: Vec<NameId> = Vec::new();
        for (_, n) in by_pos {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        let mut wildcards: Vec<u32> = Vec::new();
        for (w, _) in &s.wildcards {
            if !wildcards.contains(w) {
                wildcards.push(*w);
            }
        }
        (names, wildcards)
    }

    /// Builds the automaton of a particle; `None` particle means empty content.
    pub(crate) fn build(particle: Option<&Particle>) -> Automaton {
        let mut builder = Builder::default();
        let regex = particle.map_or(Re::Empty, |p| builder.expand(p));
        let mut follow: Vec<Vec<u32>> = vec![Vec::new(); builder.positions.len()];
        let info = analyse(&regex, &mut follow);
        let mut states = Vec::with_capacity(builder.positions.len() + 1);
        let positions = builder.positions;
        let make_state = |targets: &[u32], accepting: bool| {
            let mut state = State {
                accepting,
                ..State::default()
            };
            for &pos in targets {
                match positions[pos as usize] {
                    Term::Element { name, .. } => {
                        // Under UPA a name appears once; keep the first if a schema breaks it.
                        if !state.by_name.iter().any(|(n, _)| *n == name) {
                            state.by_name.push((name, pos));
                        }
                    }
                    Term::Any { wildcard } => state.wildcards.push((wildcard, pos)),
                }
            }
            state.by_name.sort_unstable_by_key(|(n, _)| *n);
            state.wildcards.sort_unstable_by_key(|(_, p)| *p);
            state
        };
        states.push(make_state(&info.first, info.nullable));
        for (pos, targets) in follow.iter().enumerate() {
            states.push(make_state(targets, info.last.contains(&(pos as u32))));
        }
        Automaton { positions, states }
    }
}

enum Re {
    Empty,
    Pos(u32),
    Seq(Vec<Re>),
    Alt(Vec<Re>),
    Star(Box<Re>),
    Opt(Box<Re>),
}

#[derive(Default)]
struct Builder {
    positions: Vec<Term>,
}

impl Builder {
    /// Expands occurrence bounds into copies, each copy with fresh positions.
    fn expand(&mut self, particle: &Particle) -> Re {
        let occurs = match particle {
            Particle::Element { occurs, .. }
            | Particle::Any { occurs, .. }
            | Particle::Sequence(_, occurs)
            | Particle::Choice(_, occurs) => *occurs,
        };
        let min = occurs.min.min(MAX_EXPANDED_OCCURS);
        let max = occurs.max.filter(|m| *m <= MAX_EXPANDED_OCCURS);
        if max == Some(0) {
            return Re::Empty;
        }
        let mut parts: Vec<Re> = (0..min).map(|_| self.once(particle)).collect();
        match max {
            None => parts.push(Re::Star(Box::new(self.once(particle)))),
            Some(max) => {
                // (p (p (p)?)?)? keeps the automaton deterministic.
                let mut tail: Option<Re> = None;
                for _ in min..max {
                    let copy = self.once(particle);
                    let inner = match tail.take() {
                        Some(t) => Re::Seq(vec![copy, Re::Opt(Box::new(t))]),
                        None => copy,
                    };
                    tail = Some(inner);
                }
                if let Some(t) = tail {
                    parts.push(Re::Opt(Box::new(t)));
                }
            }
        }
        match parts.len() {
            0 => Re::Empty,
            1 => parts.pop().unwrap_or(Re::Empty),
            _ => Re::Seq(parts),
        }
    }

    /// One occurrence of a particle.
    fn once(&mut self, particle: &Particle) -> Re {
        match particle {
            Particle::Element { name, decl, .. } => self.position(Term::Element {
                name: *name,
                decl: *decl,
            }),
            Particle::Any { wildcard, .. } => self.position(Term::Any {
                wildcard: *wildcard,
            }),
            Particle::Sequence(items, _) => Re::Seq(items.iter().map(|p| self.expand(p)).collect()),
            Particle::Choice(items, _) => Re::Alt(items.iter().map(|p| self.expand(p)).collect()),
        }
    }

    fn position(&mut self, term: Term) -> Re {
        self.positions.push(term);
        Re::Pos(self.positions.len() as u32 - 1)
    }
}

struct Info {
    nullable: bool,
    first: Vec<u32>,
    last: Vec<u32>,
}

fn union_into(target: &mut Vec<u32>, items: &[u32]) {
    for i in items {
        if !target.contains(i) {
            target.push(*i);
        }
    }
}

/// Glushkov's nullable / first / last sets, filling the follow sets on the way.
fn analyse(re: &Re, follow: &mut [Vec<u32>]) -> Info {
    match re {
        Re::Empty => Info {
            nullable: true,
            first: Vec::new(),
            last: Vec::new(),
        },
        Re::Pos(p) => Info {
            nullable: false,
            first: vec![*p],
            last: vec![*p],
        },
        Re::Seq(items) => {
            let mut nullable = true;
            let mut first = Vec::new();
            let mut last: Vec<u32> = Vec::new();
            for item in items {
                let info = analyse(item, follow);
                for &l in &last {
                    union_into(&mut follow[l as usize], &info.first);
                }
                if nullable {
                    union_into(&mut first, &info.first);
                }
                if info.nullable {
                    union_into(&mut last, &info.last);
                } else {
                    last = info.last;
                }
                nullable &= info.nullable;
            }
            Info {
                nullable,
                first,
                last,
            }
        }
        Re::Alt(items) => {
            let mut out = Info {
                nullable: items.is_empty(),
                first: Vec::new(),
                last: Vec::new(),
            };
            for item in items {
                let info = analyse(item, follow);
                out.nullable |= info.nullable;
                union_into(&mut out.first, &info.first);
                union_into(&mut out.last, &info.last);
            }
            out
        }
        Re::Star(inner) => {
            let info = analyse(inner, follow);
            for &l in &info.last {
                union_into(&mut follow[l as usize], &info.first);
            }
            Info {
                nullable: true,
                ..info
            }
        }
        Re::Opt(inner) => {
            let info = analyse(inner, follow);
            Info {
                nullable: true,
                ..info
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(name: u32, min: u32, max: Option<u32>) -> Particle {
        Particle::Element {
            name: NameId(name),
            decl: name,
            occurs: Occurs { min, max },
        }
    }

    fn run(a: &Automaton, names: &[u32]) -> bool {
        let mut state = a.start();
        for n in names {
            match a.step(state, Some(NameId(*n)), |_| false) {
                Some((next, _)) => state = next,
                None => return false,
            }
        }
        a.is_accepting(state)
    }

    #[test]
    fn a_sequence_keeps_order_and_counts() {
        let model = Particle::Sequence(
            vec![el(1, 1, Some(1)), el(2, 0, None), el(3, 1, Some(2))],
            Occurs::ONCE,
        );
        let a = Automaton::build(Some(&model));
        assert!(run(&a, &[1, 3]));
        assert!(run(&a, &[1, 2, 2, 3, 3]));
        assert!(!run(&a, &[1, 3, 3, 3]));
        assert!(!run(&a, &[3, 1]));
        assert!(!run(&a, &[1]));
    }

    #[test]
    fn a_choice_takes_one_branch_per_round() {
        let model = Particle::Choice(
            vec![el(1, 1, Some(1)), el(2, 1, Some(1))],
            Occurs { min: 1, max: None },
        );
        let a = Automaton::build(Some(&model));
        assert!(run(&a, &[1, 2, 1]));
        assert!(!run(&a, &[]));
    }

    #[test]
    fn empty_content_accepts_nothing_but_silence() {
        let a = Automaton::build(None);
        assert!(run(&a, &[]));
        assert!(!run(&a, &[1]));
    }
}
