//! The project page: its facts and budget, the lifecycle buttons the reader may use, review
//! comments by section, the history (status changes with their delegation chains, and edits),
//! and the transactions with budget against actual.

use super::filters::country_name;
use super::{
    Fields, FormError, SECTIONS, TRANSACTION_KINDS, label, money, shell, short_time, shown_in_page,
    usd, with_status,
};
use crate::api::projects::transactions_view;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::state::AppState;
use crate::ui::{EventRow, Shell, can, render, urlencode, user_role_key};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use meridian_domain::authz::{Action, Role};
use meridian_domain::projects::lifecycle::{Status, Transition};
use meridian_store::projects::{Comment, HistoryEntry, Project, TransactionInput};

/// Where on the page an error from a form belongs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Transition,
    Comment,
    Transaction,
}

/// What the person typed into the page's forms, kept when one of them is refused.
#[derive(Default)]
pub struct Typed {
    comment: String,
    section: String,
    body: String,
    reply_to: String,
    kind: String,
    date: String,
    currency: String,
    amount: String,
    provider: String,
    receiver: String,
    description: String,
}

pub struct BudgetLineView {
    category: String,
    description: String,
    amount: String,
    amount_usd: String,
}

pub struct Facts {
    code: String,
    title: String,
    summary: String,
    status: &'static str,
    status_label: &'static str,
    unit: String,
    unit_name: String,
    region: String,
    region_name: String,
    countries: Vec<(String, String)>,
    admin_areas: String,
    theme: &'static str,
    start: String,
    end: String,
    currency: String,
    budget: Option<String>,
    budget_usd: Option<String>,
    lines: Option<Vec<BudgetLineView>>,
    donors: Option<Vec<String>>,
    partners: Vec<String>,
    restricted: bool,
    updated: String,
}

pub struct Button {
    action: &'static str,
    label: &'static str,
    /// Ends or turns back the project: drawn as a secondary button.
    quiet: bool,
}

pub struct CommentView {
    id: String,
    author: String,
    at: String,
    at_short: String,
    body: String,
    replies: Vec<CommentView>,
}

pub struct SectionComments {
    section: &'static str,
    label: &'static str,
    threads: Vec<CommentView>,
}

pub struct ChainLinkView {
    delegatee: String,
    limit: String,
}

pub struct StatusChange {
    at: String,
    at_short: String,
    actor: String,
    transition: &'static str,
    from: &'static str,
    to: &'static str,
    comment: String,
    amount: Option<String>,
    chain: Vec<ChainLinkView>,
}

pub struct TransactionView {
    kind: &'static str,
    date: String,
    amount: String,
    amount_usd: String,
    provider: String,
    receiver: String,
    description: String,
}

pub struct Finance {
    rows: Vec<TransactionView>,
    budget: String,
    committed: String,
    spent: String,
    received: String,
    burn_rate: Option<String>,
    /// The burn rate as a bar, in percent (at most 100).
    burn_width: String,
}

#[derive(Template)]
#[template(path = "projects/project.html")]
struct ProjectPage {
    shell: Shell,
    p: Facts,
    buttons: Vec<Button>,
    can_edit: bool,
    can_comment: bool,
    can_add_transaction: bool,
    sections: Vec<(&'static str, &'static str)>,
    comments: Vec<SectionComments>,
    history: Vec<StatusChange>,
    events: Vec<EventRow>,
    finance: Option<Finance>,
    /// None when the project is restricted and the reader may not see its documents.
    documents: Option<Vec<super::documents::DocumentRow>>,
    doc_types: Vec<(&'static str, &'static str)>,
    can_upload: bool,
    kinds: Vec<(&'static str, &'static str)>,
    error: Option<(Place, FormError)>,
    typed: Typed,
    today: String,
}

impl ProjectPage {
    fn error_at(&self, place: Place) -> Option<&FormError> {
        self.error
            .as_ref()
            .filter(|(p, _)| *p == place)
            .map(|(_, e)| e)
    }
}

fn facts(state: &AppState, t: Tr, p: &Project) -> Facts {
    let snap = state.org();
    let name = |code: &str| {
        snap.org
            .unit(code)
            .map_or_else(|| code.to_owned(), |u| u.name.clone())
    };
    Facts {
        code: p.code.clone(),
        title: p.title.clone(),
        summary: p.summary.clone(),
        status: p.status.as_str(),
        status_label: label(t, "status", p.status.as_str()),
        unit_name: name(&p.unit),
        unit: p.unit.clone(),
        region_name: name(&p.region),
        region: p.region.clone(),
        countries: p
            .countries
            .iter()
            .map(|c| (c.clone(), country_name(&snap, t, c)))
            .collect(),
        admin_areas: p.admin_areas.join(", "),
        theme: label(t, "theme", &p.thematic_area),
        start: p.start_date.clone(),
        end: p.end_date.clone(),
        currency: p.currency.clone(),
        budget: p.budget.map(|b| money(b, &p.currency)),
        budget_usd: p.budget_usd.map(usd),
        lines: p.budget_lines.as_ref().map(|lines| {
            lines
                .iter()
                .map(|l| BudgetLineView {
                    category: l.category.clone(),
                    description: l.description.clone(),
                    amount: money(l.amount, &l.currency),
                    amount_usd: usd(l.amount_usd),
                })
                .collect()
        }),
        donors: p.donors.clone(),
        partners: p.partners.clone(),
        restricted: p.restricted,
        updated: short_time(&p.updated_at),
    }
}

/// The permission a transition needs from where the project is (as the store decides it).
fn needed(transition: Transition, status: Status) -> Action {
    match (transition, status) {
        (Transition::Reject, Status::SubmittedToDonor) => Action::ApproveProject,
        _ => transition.action(),
    }
}

/// The transitions allowed now that the reader's roles and scope let them take. The store
/// still checks each one (segregation of duties, delegated authority) when it is used.
fn buttons(state: &AppState, caller: &Caller, t: Tr, p: &Project) -> Vec<Button> {
    p.allowed_transitions
        .iter()
        .filter(|tr| can(state, caller, needed(**tr, p.status), &p.unit))
        .map(|tr| Button {
            action: tr.as_str(),
            label: label(t, "transition", tr.as_str()),
            quiet: matches!(
                tr,
                Transition::Return
                    | Transition::Reject
                    | Transition::Withdraw
                    | Transition::Suspend
            ),
        })
        .collect()
}

fn comment_view(c: &Comment) -> CommentView {
    CommentView {
        id: c.id.clone(),
        author: c.author.clone(),
        at: c.at.clone(),
        at_short: short_time(&c.at),
        body: c.body.clone(),
        replies: Vec::new(),
    }
}

/// Comments by section, each thread under the comment that opened it (oldest first).
fn threads(t: Tr, comments: &[Comment]) -> Vec<SectionComments> {
    use std::collections::HashMap;
    // The thread a comment belongs to is the one its first ancestor opened.
    let by_id: HashMap<&str, &Comment> = comments.iter().map(|c| (c.id.as_str(), c)).collect();
    let root = |c: &Comment| {
        let mut at = c;
        let mut steps = 0;
        while let Some(parent) = at.reply_to.as_deref().and_then(|id| by_id.get(id)) {
            at = parent;
            steps += 1;
            if steps > comments.len() {
                break;
            }
        }
        at.id.clone()
    };
    let mut sections: Vec<SectionComments> = Vec::new();
    let mut thread_of: HashMap<String, (usize, usize)> = HashMap::new();
    for c in comments {
        let root_id = root(c);
        if root_id != c.id
            && let Some((s, i)) = thread_of.get(&root_id)
        {
            sections[*s].threads[*i].replies.push(comment_view(c));
            continue;
        }
        let s = match sections.iter().position(|s| s.section == c.section) {
            Some(s) => s,
            None => {
                let section = SECTIONS
                    .iter()
                    .copied()
                    .find(|s| *s == c.section)
                    .unwrap_or("general");
                sections.push(SectionComments {
                    section,
                    label: label(t, "section", section),
                    threads: Vec::new(),
                });
                sections.len() - 1
            }
        };
        sections[s].threads.push(comment_view(c));
        thread_of.insert(c.id.clone(), (s, sections[s].threads.len() - 1));
    }
    sections.sort_by_key(|s| SECTIONS.iter().position(|x| *x == s.section));
    sections
}

/// `regional_reviewer at RO-NBO` → `Regional reviewer, RO-NBO`.
fn delegatee(t: Tr, raw: &str) -> String {
    match raw.split_once(" at ") {
        Some((role, unit)) => match Role::parse(role) {
            Ok(role) => format!("{}, {unit}", t.get(user_role_key(role))),
            Err(_) => raw.to_owned(),
        },
        None => raw.to_owned(),
    }
}

fn status_change(t: Tr, h: &HistoryEntry) -> StatusChange {
    let chain = h
        .delegation_chain
        .as_ref()
        .and_then(|c| c.as_array())
        .map(|links| {
            links
                .iter()
                .map(|l| {
                    let amount = l["limit"]["amount"].as_str().unwrap_or_default();
                    let currency = l["limit"]["currency"].as_str().unwrap_or_default();
                    ChainLinkView {
                        delegatee: delegatee(t, l["delegatee"].as_str().unwrap_or_default()),
                        limit: amount.parse().map_or_else(
                            |_| format!("{amount} {currency}"),
                            |a| money(a, currency),
                        ),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    StatusChange {
        at: h.at.clone(),
        at_short: short_time(&h.at),
        actor: h.actor.clone(),
        transition: label(t, "transition", &h.transition),
        from: label(t, "status", &h.from_status),
        to: label(t, "status", &h.to_status),
        comment: h.comment.clone(),
        amount: h.amount_usd.map(usd),
        chain,
    }
}

/// Budget against actual; none for a restricted project the reader may not see the money of.
async fn finance(
    state: &AppState,
    caller: &Caller,
    t: Tr,
    p: &Project,
) -> AppResult<Option<Finance>> {
    if p.restricted_hidden {
        return Ok(None);
    }
    let list = state
        .store
        .transactions(&state.org().org, &caller.actor(), &p.id)
        .await?;
    let view = transactions_view(p, list);
    let width = view
        .burn_rate_percent
        .map(|b| b.min(rust_decimal::Decimal::from(100)).round_dp(1))
        .unwrap_or_default();
    Ok(Some(Finance {
        budget: usd(view.budget_usd),
        committed: usd(view.committed_usd),
        spent: usd(view.spent_usd),
        received: usd(view.received_usd),
        burn_rate: view.burn_rate_percent.map(|b| format!("{b} %")),
        burn_width: width.to_string(),
        rows: view
            .transactions
            .iter()
            .map(|tx| TransactionView {
                kind: label(t, "transaction", tx.kind.as_str()),
                date: tx.date.clone(),
                amount: money(tx.amount, &tx.currency),
                amount_usd: usd(tx.amount_usd),
                provider: tx.provider.clone(),
                receiver: tx.receiver.clone(),
                description: tx.description.clone(),
            })
            .collect(),
    }))
}

async fn project_page(
    state: &AppState,
    caller: &Caller,
    t: Tr,
    uri: &Uri,
    id: &str,
    error: Option<(Place, &AppError)>,
    typed: Typed,
) -> AppResult<Response> {
    let snap = state.org();
    let actor = caller.actor();
    let p = state.store.project(&snap.org, &actor, id).await?;
    let history = state.store.project_history(&snap.org, &actor, id).await?;
    let may = |action| can(state, caller, action, &p.unit);
    let page = ProjectPage {
        shell: shell(t, caller, uri),
        buttons: buttons(state, caller, t, &p),
        can_edit: p.status.is_editable() && may(Action::DraftProject),
        can_comment: may(Action::ReviewProject) || may(Action::DraftProject),
        can_add_transaction: may(Action::ManageProject),
        sections: SECTIONS
            .iter()
            .map(|s| (*s, label(t, "section", s)))
            .collect(),
        comments: threads(t, &history.comments),
        history: history
            .status_changes
            .iter()
            .map(|h| status_change(t, h))
            .collect(),
        events: history
            .changes
            .into_iter()
            .filter(|c| c.action == "project.update")
            .map(EventRow::from)
            .collect(),
        finance: finance(state, caller, t, &p).await?,
        documents: if p.restricted_hidden {
            None
        } else {
            Some(super::documents::rows(
                t,
                &state.store.documents(&snap.org, &actor, &p.id).await?,
            ))
        },
        doc_types: meridian_domain::projects::documents::DOCUMENT_TYPES
            .iter()
            .map(|d| (*d, label(t, "doc_type", d)))
            .collect(),
        can_upload: may(Action::ManageProject),
        kinds: TRANSACTION_KINDS
            .iter()
            .map(|k| (*k, label(t, "transaction", k)))
            .collect(),
        error: error.map(|(place, e)| (place, FormError::new(t, e))),
        typed: Typed {
            currency: if typed.currency.is_empty() {
                p.currency.clone()
            } else {
                typed.currency.clone()
            },
            ..typed
        },
        today: time::OffsetDateTime::now_utc().date().to_string(),
        p: facts(state, t, &p),
    };
    let response = render(&page)?;
    Ok(match error {
        Some((_, e)) => with_status(response, e),
        None => response,
    })
}

pub async fn project(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    project_page(&state, &caller, t, &uri, &id, None, Typed::default()).await
}

fn back_to(id: &str, anchor: &str) -> Response {
    Redirect::to(&format!("/projects/{}#{anchor}", urlencode(id))).into_response()
}

/// After a form: back to the project, or the page again with the refusal where it happened.
async fn outcome<T>(
    result: Result<T, AppError>,
    ctx: (&AppState, &Caller, Tr, &Uri, &str),
    place: Place,
    anchor: &str,
    typed: Typed,
) -> AppResult<Response> {
    let (state, caller, t, uri, id) = ctx;
    match result {
        Ok(_) => Ok(back_to(id, anchor)),
        Err(e) if shown_in_page(&e) => {
            project_page(state, caller, t, uri, id, Some((place, &e)), typed).await
        }
        Err(e) => Err(e),
    }
}

pub async fn transition(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let comment = f.text("comment");
    let result = match Transition::parse(&f.get("action")) {
        Err(m) => Err(AppError::invalid("action", m)),
        Ok(action) => state
            .store
            .transition_project(&state.org().org, &caller.actor(), &id, action, &comment)
            .await
            .map_err(AppError::from),
    };
    let typed = Typed {
        comment,
        ..Default::default()
    };
    outcome(
        result,
        (&state, &caller, t, &uri, &id),
        Place::Transition,
        "status",
        typed,
    )
    .await
}

pub async fn comment(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let reply_to = f.get("reply_to");
    let typed = Typed {
        section: f.get("section"),
        body: f.text("body"),
        reply_to: reply_to.clone(),
        ..Default::default()
    };
    let result = state
        .store
        .comment_on_project(
            &state.org().org,
            &caller.actor(),
            &id,
            &typed.section,
            &typed.body,
            (!reply_to.is_empty()).then_some(reply_to.as_str()),
        )
        .await
        .map_err(AppError::from);
    outcome(
        result,
        (&state, &caller, t, &uri, &id),
        Place::Comment,
        "comments",
        typed,
    )
    .await
}

pub async fn add_transaction(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let typed = Typed {
        kind: f.get("kind"),
        date: f.get("date"),
        currency: f.get("currency"),
        amount: f.get("amount"),
        provider: f.get("provider"),
        receiver: f.get("receiver"),
        description: f.get("description"),
        ..Default::default()
    };
    let input = TransactionInput {
        kind: typed.kind.clone(),
        date: typed.date.clone(),
        currency: typed.currency.clone(),
        amount: typed.amount.clone(),
        provider: typed.provider.clone(),
        receiver: typed.receiver.clone(),
        description: typed.description.clone(),
    };
    let result = state
        .store
        .add_transaction(&state.org().org, &caller.actor(), &id, &input)
        .await
        .map_err(AppError::from);
    outcome(
        result,
        (&state, &caller, t, &uri, &id),
        Place::Transaction,
        "transactions",
        typed,
    )
    .await
}
