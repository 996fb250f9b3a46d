//! Delegation of authority, as the people deciding on projects meet it.
//!
//! The test organization (`org::tests::ORG`): EO at the top, DSP and RMU at headquarters,
//! RO-NBO covering Kenya and Uganda (CO-KEN, CO-UGA, and SE-X under it), RO-BKK covering
//! Thailand (CO-THA). The euro is worth 2 US dollars and the CFA franc 0.002.

use super::*;
use crate::org::tests::org;
use crate::projects::money::{Currency, ExchangeRate};
use proptest::prelude::*;
use time::macros::date;

const ON: Date = date!(2026 - 03 - 01);

fn code(s: &str) -> UnitCode {
    UnitCode::parse(s).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str_exact(s).unwrap()
}

fn money(amount: &str, currency: &str) -> Money {
    Money::parse(amount, currency).unwrap()
}

fn rates() -> RateTable {
    let rate = |c: &str, r: &str| ExchangeRate {
        currency: Currency::parse(c).unwrap(),
        effective: date!(2026 - 01 - 01),
        usd_per_unit: dec(r),
    };
    RateTable::new(vec![rate("EUR", "2"), rate("XOF", "0.002")])
}

fn user(id: &str, unit: &str, roles: &[Role]) -> UserActor {
    UserActor {
        id: id.into(),
        email: format!("{id}@example.org"),
        unit: code(unit),
        roles: roles.to_vec(),
    }
}

fn amina() -> UserActor {
    user("amina", "RO-NBO", &[Role::RegionalReviewer])
}

/// A root delegation to endorse projects, to regional reviewers at RO-NBO.
fn delegation(id: &str, limit: Money) -> Delegation {
    Delegation {
        id: id.into(),
        authority: Authority::EndorseProject,
        delegatee: Delegatee::Role {
            role: Role::RegionalReviewer,
            unit: code("RO-NBO"),
        },
        limit,
        valid_from: date!(2026 - 01 - 01),
        valid_to: None,
        may_subdelegate: false,
        parent: None,
        revoked: false,
    }
}

fn sub(id: &str, parent: &str, limit: Money) -> Delegation {
    Delegation {
        parent: Some(parent.into()),
        ..delegation(id, limit)
    }
}

fn to_person(mut d: Delegation, user_id: &str) -> Delegation {
    d.delegatee = Delegatee::Person {
        user_id: user_id.into(),
    };
    d
}

fn subdelegable(mut d: Delegation) -> Delegation {
    d.may_subdelegate = true;
    d
}

/// Amina endorses a project of `unit` for `amount` on [`ON`].
fn endorse(
    delegations: &[Delegation],
    actor: &UserActor,
    unit: &str,
    amount: Money,
) -> Result<Chain, DelegationRefusal> {
    decide(delegations, actor, unit, amount, ON)
}

fn decide(
    delegations: &[Delegation],
    actor: &UserActor,
    unit: &str,
    amount: Money,
    on: Date,
) -> Result<Chain, DelegationRefusal> {
    let unit = code(unit);
    let request = DecisionRequest {
        authority: Authority::EndorseProject,
        actor,
        project_unit: &unit,
        amount: &amount,
        on,
    };
    find_chain(delegations, &request, &org(), &rates())
}

fn refusal(result: Result<Chain, DelegationRefusal>) -> String {
    result.unwrap_err().to_string()
}

fn ids(chain: &Chain) -> Vec<&str> {
    chain
        .links
        .iter()
        .map(|l| l.delegation_id.as_str())
        .collect()
}

// --- who a delegation covers --------------------------------------------------------------

#[test]
fn a_regional_reviewer_endorses_a_project_of_a_country_in_her_region() {
    let delegations = [delegation("D-1", money("500000", "USD"))];
    let chain = endorse(&delegations, &amina(), "CO-KEN", money("100000", "USD")).unwrap();
    assert_eq!(
        chain.links,
        vec![ChainLink {
            delegation_id: "D-1".into(),
            delegatee: "regional_reviewer at RO-NBO".into(),
            limit: money("500000", "USD"),
            limit_usd: dec("500000"),
        }]
    );
    assert_eq!(chain.holder(), chain.root());
    // A reviewer posted in a country office of the region holds the same position.
    let in_kenya = user("otieno", "CO-KEN", &[Role::RegionalReviewer]);
    assert!(endorse(&delegations, &in_kenya, "CO-UGA", money("1", "USD")).is_ok());
}

#[test]
fn a_regional_delegation_stops_at_the_edge_of_the_region() {
    let delegations = [delegation("D-1", money("500000", "USD"))];
    assert_eq!(
        refusal(endorse(&delegations, &amina(), "CO-THA", money("1", "USD"))),
        "no delegation of authority to endorse projects covers you"
    );
    let in_bangkok = user("somchai", "RO-BKK", &[Role::RegionalReviewer]);
    assert_eq!(
        refusal(endorse(
            &delegations,
            &in_bangkok,
            "CO-KEN",
            money("1", "USD")
        )),
        "no delegation of authority to endorse projects covers you"
    );
}

#[test]
fn a_position_needs_the_role() {
    let delegations = [delegation("D-1", money("500000", "USD"))];
    let viewer = user("amina", "RO-NBO", &[Role::Viewer, Role::Approver]);
    assert!(matches!(
        endorse(&delegations, &viewer, "CO-KEN", money("1", "USD")),
        Err(DelegationRefusal::NotDelegated { .. })
    ));
}

#[test]
fn a_headquarters_delegation_applies_everywhere() {
    let mut d = delegation("D-1", money("5000000", "USD"));
    d.delegatee = Delegatee::Role {
        role: Role::Approver,
        unit: code("DSP"),
    };
    let approver = user("li", "RMU", &[Role::Approver]);
    for unit in ["CO-THA", "CO-KEN", "SE-X", "RMU"] {
        assert!(
            endorse(std::slice::from_ref(&d), &approver, unit, money("1", "USD")).is_ok(),
            "{unit}"
        );
    }
}

#[test]
fn a_headquarters_position_is_held_only_by_staff_of_that_unit() {
    let mut d = delegation("D-1", money("5000000", "USD"));
    d.delegatee = Delegatee::Role {
        role: Role::Approver,
        unit: code("DSP"),
    };
    let field_approver = user("kofi", "CO-KEN", &[Role::Approver]);
    assert!(matches!(
        endorse(
            std::slice::from_ref(&d),
            &field_approver,
            "CO-KEN",
            money("1", "USD")
        ),
        Err(DelegationRefusal::NotDelegated { .. })
    ));
}

#[test]
fn a_personal_delegation_follows_the_person() {
    let d = to_person(delegation("D-1", money("100000", "USD")), "li");
    let li = user("li", "CO-THA", &[]);
    let chain = endorse(std::slice::from_ref(&d), &li, "CO-KEN", money("1", "USD")).unwrap();
    assert_eq!(chain.links[0].delegatee, "person li");
    assert!(endorse(&[d], &amina(), "CO-KEN", money("1", "USD")).is_err());
}

#[test]
fn a_unit_the_organization_no_longer_has_gives_no_authority() {
    let mut d = delegation("D-1", money("100000", "USD"));
    d.delegatee = Delegatee::Role {
        role: Role::RegionalReviewer,
        unit: code("RO-GONE"),
    };
    assert!(matches!(
        endorse(&[d], &amina(), "CO-KEN", money("1", "USD")),
        Err(DelegationRefusal::NotDelegated { .. })
    ));
}

#[test]
fn a_delegation_gives_only_its_own_authority() {
    let mut d = delegation("D-1", money("100000", "USD"));
    d.authority = Authority::ApproveProject;
    assert_eq!(
        refusal(endorse(
            std::slice::from_ref(&d),
            &amina(),
            "CO-KEN",
            money("1", "USD")
        )),
        "no delegation of authority to endorse projects covers you"
    );
    let unit = code("CO-KEN");
    let amount = money("1", "USD");
    let request = DecisionRequest {
        authority: Authority::ApproveRevision,
        actor: &amina(),
        project_unit: &unit,
        amount: &amount,
        on: ON,
    };
    assert_eq!(
        find_chain(&[d], &request, &org(), &rates())
            .unwrap_err()
            .to_string(),
        "no delegation of authority to approve project revisions covers you"
    );
}

// --- limits --------------------------------------------------------------------------------

#[test]
fn a_delegation_that_does_not_cover_the_amount_names_the_limit() {
    let delegations = [delegation("D-1", money("250000", "EUR"))];
    assert_eq!(
        refusal(endorse(
            &delegations,
            &amina(),
            "CO-KEN",
            money("750000", "USD")
        )),
        "your delegation D-1 allows up to 500,000.00 USD (250,000.00 EUR); \
         this project is 750,000.00 USD"
    );
    assert_eq!(
        refusal(endorse(
            &delegations,
            &amina(),
            "CO-KEN",
            money("300000000", "XOF")
        )),
        "your delegation D-1 allows up to 500,000.00 USD (250,000.00 EUR); \
         this project is 600,000.00 USD (300,000,000 XOF)"
    );
    let in_dollars = [delegation("D-1", money("500000", "USD"))];
    assert_eq!(
        refusal(endorse(
            &in_dollars,
            &amina(),
            "CO-KEN",
            money("500000.01", "USD")
        )),
        "your delegation D-1 allows up to 500,000.00 USD; this project is 500,000.01 USD"
    );
}

#[test]
fn a_limit_covers_an_amount_equal_to_it_in_any_currency() {
    let delegations = [delegation("D-1", money("250000", "EUR"))];
    let chain = endorse(&delegations, &amina(), "CO-KEN", money("250000000", "XOF")).unwrap();
    assert_eq!(chain.holder().limit_usd, dec("500000"));
}

#[test]
fn the_smallest_sufficient_delegation_is_used() {
    let delegations = [
        delegation("D-big", money("1000000", "USD")),
        delegation("D-small", money("150000", "EUR")),
        delegation("D-tiny", money("10000", "USD")),
    ];
    let chain = endorse(&delegations, &amina(), "CO-KEN", money("200000", "USD")).unwrap();
    assert_eq!(ids(&chain), ["D-small"]);
    let chain = endorse(&delegations, &amina(), "CO-KEN", money("400000", "USD")).unwrap();
    assert_eq!(ids(&chain), ["D-big"]);
    // Equal limits: the smallest id, whatever the order given.
    let twins = [
        delegation("D-2", money("200000", "USD")),
        delegation("D-1", money("100000", "EUR")),
    ];
    let chain = endorse(&twins, &amina(), "CO-KEN", money("1", "USD")).unwrap();
    assert_eq!(ids(&chain), ["D-1"]);
}

#[test]
fn without_a_rate_nothing_is_decided() {
    let delegations = [delegation("D-1", money("250000", "EUR"))];
    assert_eq!(
        refusal(endorse(&delegations, &amina(), "CO-KEN", money("5", "CHF"))),
        "no exchange rate for CHF on or before 2026-03-01"
    );
    let in_francs = [delegation("D-1", money("250000", "CHF"))];
    assert_eq!(
        refusal(endorse(&in_francs, &amina(), "CO-KEN", money("5", "USD"))),
        "no exchange rate for CHF on or before 2026-03-01"
    );
}

// --- time and revocation -------------------------------------------------------------------

#[test]
fn a_delegation_is_in_force_from_its_first_to_its_last_day() {
    let mut d = delegation("D-1", money("500000", "USD"));
    d.valid_from = date!(2026 - 01 - 01);
    d.valid_to = Some(date!(2026 - 06 - 30));
    let delegations = [d];
    let on = |day| decide(&delegations, &amina(), "CO-KEN", money("1", "USD"), day);
    assert!(on(date!(2026 - 01 - 01)).is_ok());
    assert!(on(date!(2026 - 06 - 30)).is_ok());
    assert_eq!(
        refusal(on(date!(2026 - 07 - 01))),
        "delegation D-1 expired on 2026-06-30"
    );
    assert_eq!(
        refusal(on(date!(2025 - 12 - 31))),
        "delegation D-1 starts on 2026-01-01"
    );
}

#[test]
fn a_revoked_delegation_gives_no_authority() {
    let mut d = delegation("D-1", money("500000", "USD"));
    d.revoked = true;
    assert_eq!(
        refusal(endorse(&[d], &amina(), "CO-KEN", money("1", "USD"))),
        "delegation D-1 was revoked"
    );
}

#[test]
fn the_refusal_explains_the_delegation_closest_to_allowing_the_decision() {
    let mut expired = delegation("D-1", money("1000000", "USD"));
    expired.valid_to = Some(date!(2026 - 02 - 28));
    let small = delegation("D-2", money("100000", "USD"));
    let mut revoked = delegation("D-3", money("1000000", "USD"));
    revoked.revoked = true;
    assert_eq!(
        refusal(endorse(
            &[expired.clone(), small, revoked.clone()],
            &amina(),
            "CO-KEN",
            money("200000", "USD")
        )),
        "your delegation D-2 allows up to 100,000.00 USD; this project is 200,000.00 USD"
    );
    assert_eq!(
        refusal(endorse(
            &[revoked, expired],
            &amina(),
            "CO-KEN",
            money("200000", "USD")
        )),
        "delegation D-1 expired on 2026-02-28"
    );
}

// --- chains --------------------------------------------------------------------------------

/// The head delegates to approvers at headquarters, who sub-delegate to RO-NBO's reviewers,
/// who sub-delegate to Amina by name.
fn three_links() -> Vec<Delegation> {
    let mut root = subdelegable(delegation("D-1", money("2000000", "USD")));
    root.delegatee = Delegatee::Role {
        role: Role::Approver,
        unit: code("EO"),
    };
    vec![
        to_person(sub("D-3", "D-2", money("100000", "EUR")), "amina"),
        root,
        subdelegable(sub("D-2", "D-1", money("500000", "USD"))),
    ]
}

#[test]
fn a_chain_runs_from_the_holder_up_to_the_head() {
    let delegations = three_links();
    let chain = endorse(&delegations, &amina(), "CO-UGA", money("150000", "USD")).unwrap();
    // Amina also holds D-2 as a reviewer at RO-NBO; her own D-3 is the smaller that covers.
    assert_eq!(ids(&chain), ["D-3", "D-2", "D-1"]);
    assert_eq!(chain.root().delegatee, "approver at EO");
    assert_eq!(chain.links[0].limit_usd, dec("200000"));
    let json = serde_json::to_value(&chain.links[0]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "delegation_id": "D-3",
            "delegatee": "person amina",
            "limit": {"amount": "100000.00", "currency": "EUR"},
            "limit_usd": "200000.00",
        })
    );
    let chain = endorse(&delegations, &amina(), "CO-UGA", money("250000", "USD")).unwrap();
    assert_eq!(ids(&chain), ["D-2", "D-1"]);
}

#[test]
fn a_problem_above_your_delegation_says_it_derives_from_it() {
    // Amina, without the reviewer role, holds only D-3.
    let amina = || user("amina", "CO-KEN", &[]);
    let mut delegations = three_links();
    delegations[1].valid_to = Some(date!(2026 - 02 - 01));
    assert_eq!(
        refusal(endorse(&delegations, &amina(), "CO-KEN", money("1", "USD"))),
        "delegation D-1 expired on 2026-02-01 (your delegation D-3 derives from it)"
    );
    let mut delegations = three_links();
    delegations[2].limit = money("50000", "USD");
    assert_eq!(
        refusal(endorse(
            &delegations,
            &amina(),
            "CO-KEN",
            money("150000", "USD")
        )),
        "delegation D-2 allows up to 50,000.00 USD; this project is 150,000.00 USD \
         (your delegation D-3 derives from it)"
    );
    let mut delegations = three_links();
    delegations[1].revoked = true;
    assert_eq!(
        refusal(endorse(&delegations, &amina(), "CO-KEN", money("1", "USD"))),
        "delegation D-1 was revoked (your delegation D-3 derives from it)"
    );
}

#[test]
fn a_delegation_that_may_not_be_sub_delegated_breaks_the_chain() {
    let delegations = [
        delegation("D-1", money("500000", "USD")),
        to_person(sub("D-2", "D-1", money("100000", "USD")), "li"),
    ];
    let li = user("li", "CO-KEN", &[]);
    assert_eq!(
        refusal(endorse(&delegations, &li, "CO-KEN", money("1", "USD"))),
        "delegation D-2 was sub-delegated from D-1, which may not be sub-delegated"
    );
}

#[test]
fn a_missing_parent_breaks_the_chain() {
    let delegations = [sub("D-2", "D-9", money("100000", "USD"))];
    assert_eq!(
        refusal(endorse(&delegations, &amina(), "CO-KEN", money("1", "USD"))),
        "delegation D-2 was sub-delegated from D-9, which does not exist"
    );
}

#[test]
fn parents_that_loop_never_reach_the_head() {
    let delegations = [
        subdelegable(sub("D-1", "D-2", money("100000", "USD"))),
        subdelegable(sub("D-2", "D-1", money("100000", "USD"))),
    ];
    assert_eq!(
        refusal(endorse(&delegations, &amina(), "CO-KEN", money("1", "USD"))),
        "delegation D-1 leads back to itself through its parents and never reaches the head \
         of the organization"
    );
    let own_parent = [subdelegable(sub("D-1", "D-1", money("100000", "USD")))];
    assert!(matches!(
        endorse(&own_parent, &amina(), "CO-KEN", money("1", "USD")),
        Err(DelegationRefusal::Cycle { .. })
    ));
}

#[test]
fn a_parent_of_another_authority_breaks_the_chain() {
    let mut parent = subdelegable(delegation("D-1", money("500000", "USD")));
    parent.authority = Authority::ApproveProject;
    let delegations = [parent, sub("D-2", "D-1", money("100000", "USD"))];
    assert_eq!(
        refusal(endorse(&delegations, &amina(), "CO-KEN", money("1", "USD"))),
        "delegation D-2 was sub-delegated from D-1, which delegates the authority to approve \
         projects, not to endorse projects"
    );
}

// --- creating sub-delegations --------------------------------------------------------------

fn parent() -> Delegation {
    let mut d = subdelegable(delegation("D-1", money("500000", "USD")));
    d.valid_to = Some(date!(2026 - 12 - 31));
    d
}

fn child() -> Delegation {
    let mut d = to_person(sub("D-2", "D-1", money("100000", "EUR")), "amina");
    d.valid_from = date!(2026 - 02 - 01);
    d.valid_to = Some(date!(2026 - 06 - 30));
    d
}

fn check(parent: &Delegation, child: &Delegation) -> Result<(), String> {
    check_subdelegation(parent, child, &rates()).map_err(|e| e.to_string())
}

#[test]
fn a_sub_delegation_may_narrow_its_parent() {
    assert_eq!(check(&parent(), &child()), Ok(()));
    // Equal is narrow enough.
    let mut same = child();
    same.limit = money("250000", "EUR");
    same.valid_from = parent().valid_from;
    same.valid_to = parent().valid_to;
    assert_eq!(check(&parent(), &same), Ok(()));
    // An open-ended parent allows an open-ended child.
    let mut open = parent();
    open.valid_to = None;
    let mut open_child = child();
    open_child.valid_to = None;
    assert_eq!(check(&open, &open_child), Ok(()));
}

#[test]
fn a_sub_delegation_may_not_widen_its_parent() {
    let mut above = child();
    above.limit = money("250000.01", "EUR");
    assert_eq!(
        check(&parent(), &above).unwrap_err(),
        "sub-delegation D-2 would allow up to 500,000.02 USD (250,000.01 EUR), more than its \
         parent D-1 allows (500,000.00 USD) on 2026-02-01"
    );

    let mut early = child();
    early.valid_from = date!(2025 - 12 - 31);
    assert_eq!(
        check(&parent(), &early).unwrap_err(),
        "sub-delegation D-2 starts on 2025-12-31, before its parent D-1 starts (2026-01-01)"
    );

    let mut late = child();
    late.valid_to = Some(date!(2027 - 01 - 01));
    assert_eq!(
        check(&parent(), &late).unwrap_err(),
        "sub-delegation D-2 runs until 2027-01-01, after its parent D-1 ends (2026-12-31)"
    );

    let mut endless = child();
    endless.valid_to = None;
    assert_eq!(
        check(&parent(), &endless).unwrap_err(),
        "sub-delegation D-2 has no end date, but its parent D-1 ends on 2026-12-31"
    );

    let mut other = child();
    other.authority = Authority::ApproveProject;
    assert_eq!(
        check(&parent(), &other).unwrap_err(),
        "a sub-delegation keeps its parent's authority: D-1 delegates the authority to endorse \
         projects, so D-2 cannot delegate the authority to approve projects"
    );
}

#[test]
fn only_a_live_delegation_that_allows_it_may_be_sub_delegated() {
    let mut closed = parent();
    closed.may_subdelegate = false;
    assert_eq!(
        check(&closed, &child()).unwrap_err(),
        "delegation D-1 may not be sub-delegated"
    );
    let mut revoked = parent();
    revoked.revoked = true;
    assert_eq!(
        check(&revoked, &child()).unwrap_err(),
        "delegation D-1 was revoked"
    );
    let mut stranger = child();
    stranger.parent = Some("D-7".into());
    assert_eq!(
        check(&parent(), &stranger).unwrap_err(),
        "delegation D-2 is not sub-delegated from D-1"
    );
    let mut in_francs = child();
    in_francs.limit = money("1", "CHF");
    assert_eq!(
        check(&parent(), &in_francs).unwrap_err(),
        "no exchange rate for CHF on or before 2026-02-01"
    );
}

// --- segregation of duties -----------------------------------------------------------------

#[test]
fn whoever_drafted_or_submitted_a_project_may_not_decide_on_it() {
    assert_eq!(
        segregation_of_duties("amina", "amina", None)
            .unwrap_err()
            .to_string(),
        "you drafted this project: segregation of duties forbids you to endorse or approve it"
    );
    assert_eq!(
        segregation_of_duties("amina", "li", Some("amina"))
            .unwrap_err()
            .to_string(),
        "you submitted this project: segregation of duties forbids you to endorse or approve it"
    );
    assert_eq!(segregation_of_duties("amina", "li", Some("otieno")), Ok(()));
    assert_eq!(segregation_of_duties("amina", "li", None), Ok(()));
}

// --- data ----------------------------------------------------------------------------------

#[test]
fn authorities_have_stable_names() {
    for authority in Authority::ALL {
        assert_eq!(Authority::parse(authority.as_str()), Ok(authority));
        assert_eq!(
            serde_json::to_value(authority).unwrap(),
            serde_json::json!(authority.as_str())
        );
    }
    assert_eq!(
        Authority::parse("Approve Project"),
        Ok(Authority::ApproveProject)
    );
    assert_eq!(
        Authority::parse("sign").unwrap_err(),
        "unknown authority \"sign\"; expected one of endorse_project, approve_project, \
         approve_revision"
    );
}

#[test]
fn a_delegation_travels_as_plain_json() {
    let d = child();
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "id": "D-2",
            "authority": "endorse_project",
            "delegatee": {"kind": "person", "user_id": "amina"},
            "limit": {"amount": "100000.00", "currency": "EUR"},
            "valid_from": "2026-02-01",
            "valid_to": "2026-06-30",
            "may_subdelegate": false,
            "parent": "D-1",
            "revoked": false,
        })
    );
    assert_eq!(serde_json::from_value::<Delegation>(json).unwrap(), d);
    let position = serde_json::to_value(&delegation("D-1", money("1", "USD")).delegatee).unwrap();
    assert_eq!(
        position,
        serde_json::json!({"kind": "role", "role": "regional_reviewer", "unit": "RO-NBO"})
    );
}

// --- properties ----------------------------------------------------------------------------

fn any_limit() -> impl Strategy<Value = Money> {
    (
        0i64..2_000_000,
        prop_oneof![Just("USD"), Just("EUR"), Just("XOF")],
    )
        .prop_map(|(units, currency)| {
            let amount = match currency {
                "XOF" => Decimal::from(units * 1000),
                _ => Decimal::from(units),
            };
            Money::new(amount, Currency::parse(currency).unwrap()).unwrap()
        })
}

/// A chain of 1–5 delegations, the first held by Amina, the others by approvers at
/// headquarters, the last issued by the head.
fn any_chain() -> impl Strategy<Value = Vec<Delegation>> {
    proptest::collection::vec((any_limit(), any::<bool>()), 1..=5).prop_map(|links| {
        let n = links.len();
        links
            .into_iter()
            .enumerate()
            .map(|(i, (limit, may_subdelegate))| {
                let mut d = Delegation {
                    may_subdelegate,
                    parent: (i + 1 < n).then(|| format!("D-{}", i + 1)),
                    ..delegation(&format!("D-{i}"), limit)
                };
                if i > 0 {
                    d.delegatee = Delegatee::Role {
                        role: Role::Approver,
                        unit: code("EO"),
                    };
                }
                d
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn a_sub_delegation_chain_never_allows_more_than_its_root(
        delegations in any_chain(), amount in any_limit(),
    ) {
        let table = rates();
        let amount_usd = table.to_usd(&amount, ON).unwrap();
        match endorse(&delegations, &amina(), "CO-KEN", amount) {
            Ok(chain) => {
                prop_assert_eq!(chain.links.len(), delegations.len());
                prop_assert!(chain.root().limit_usd >= amount_usd);
                for link in &chain.links {
                    // A valid chain's every link covers the amount.
                    prop_assert!(link.limit_usd >= amount_usd);
                    prop_assert_eq!(
                        link.limit_usd,
                        table.to_usd(&link.limit, ON).unwrap()
                    );
                }
            }
            Err(_) => {
                // Refused only for a reason: a link too small, or a parent that may not be
                // sub-delegated.
                let too_small = delegations
                    .iter()
                    .any(|d| table.to_usd(&d.limit, ON).unwrap() < amount_usd);
                let closed = delegations[1..].iter().any(|d| !d.may_subdelegate);
                prop_assert!(too_small || closed);
            }
        }
    }

    #[test]
    fn expiry_is_respected_on_the_boundary_days(
        start in 0i64..1000, length in 0i64..400, offset in -3i64..403, open in any::<bool>(),
    ) {
        let day = |n: i64| date!(2025 - 01 - 01) + time::Duration::days(n);
        let mut d = delegation("D-1", money("500000", "USD"));
        d.valid_from = day(start);
        d.valid_to = (!open).then(|| day(start + length));
        let on = day(start + offset);
        let in_force = offset >= 0 && (open || offset <= length);
        let result = decide(&[d], &amina(), "CO-KEN", money("1", "USD"), on);
        prop_assert_eq!(result.is_ok(), in_force, "{:?}", result);
    }

    #[test]
    fn the_chosen_delegation_is_the_smallest_that_covers(
        limits in proptest::collection::vec(any_limit(), 1..6), amount in any_limit(),
    ) {
        let table = rates();
        let delegations: Vec<Delegation> = limits
            .iter()
            .enumerate()
            .map(|(i, limit)| delegation(&format!("D-{i}"), *limit))
            .collect();
        let amount_usd = table.to_usd(&amount, ON).unwrap();
        let smallest = limits
            .iter()
            .map(|l| table.to_usd(l, ON).unwrap())
            .filter(|usd| *usd >= amount_usd)
            .min();
        match endorse(&delegations, &amina(), "CO-KEN", amount) {
            Ok(chain) => prop_assert_eq!(Some(chain.holder().limit_usd), smallest),
            Err(refusal) => {
                prop_assert_eq!(smallest, None);
                let is_limit = matches!(refusal, DelegationRefusal::LimitTooLow(_));
                prop_assert!(is_limit);
            }
        }
    }

    #[test]
    fn an_accepted_sub_delegation_never_allows_more_than_its_parent(
        parent_limit in any_limit(), child_limit in any_limit(),
    ) {
        let mut p = parent();
        p.limit = parent_limit;
        let mut c = child();
        c.limit = child_limit;
        let table = rates();
        let accepted = check_subdelegation(&p, &c, &table).is_ok();
        let narrower = table.to_usd(&child_limit, c.valid_from).unwrap()
            <= table.to_usd(&parent_limit, c.valid_from).unwrap();
        prop_assert_eq!(accepted, narrower);
    }
}
