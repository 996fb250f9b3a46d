//! The permission matrix, tested as a feature: every role × action, and scope by place in the
//! tree.

use super::*;
use crate::org::tests::org;

fn user(unit: &str, roles: &[Role]) -> Actor {
    Actor::User(UserActor {
        id: "u1".into(),
        email: "someone@example.org".into(),
        unit: UnitCode::parse(unit).unwrap(),
        roles: roles.to_vec(),
    })
}

fn code(s: &str) -> UnitCode {
    UnitCode::parse(s).unwrap()
}

#[test]
fn the_role_matrix_grants_each_action_to_the_roles_that_do_that_work() {
    for role in Role::ALL {
        for action in Action::ALL {
            use Role::*;
            let expected = match action {
                Action::ViewOrganization | Action::ViewProjects | Action::ViewEvaluations => true,
                Action::ViewUsers
                | Action::ManageUsers
                | Action::ViewAuditTrail
                | Action::ReloadOrganization
                | Action::ManageDelegations => role == Administrator,
                Action::DraftProject | Action::ManageProject => role == ProjectDeveloper,
                Action::ReviewProject | Action::EndorseProject => role == RegionalReviewer,
                Action::ApproveProject | Action::ApproveRevision => role == Approver,
                Action::ManageExchangeRates => {
                    matches!(role, Administrator | DonorRelationsOfficer)
                }
                Action::EditResultsFramework => matches!(role, ProjectDeveloper | MeOfficer),
                Action::ReportResults => matches!(role, ProjectDeveloper | MeOfficer | DataOfficer),
                Action::ApproveResults | Action::LockReportingPeriods => {
                    matches!(role, MeOfficer | RbmOfficer)
                }
                Action::ManageStrategicFramework => role == RbmOfficer,
                Action::ManageProgrammes => {
                    matches!(role, ProjectDeveloper | MeOfficer | RbmOfficer)
                }
                Action::ViewRestrictedProjectFields => {
                    matches!(
                        role,
                        Administrator
                            | ProjectDeveloper
                            | RegionalReviewer
                            | Approver
                            | DonorRelationsOfficer
                    )
                }
                Action::ManageEvaluations => role == MeOfficer,
                Action::RespondToEvaluations => matches!(role, MeOfficer | Approver),
            };
            assert_eq!(role.grants(action), expected, "{role} {action:?}");
        }
    }
}

#[test]
fn a_country_office_administrator_is_refused_another_office() {
    let org = org();
    let admin = user("CO-KEN", &[Role::Administrator]);
    assert!(authorize(&org, &admin, Action::ManageUsers, &code("CO-KEN")).is_ok());
    let refused = authorize(&org, &admin, Action::ViewUsers, &code("CO-UGA")).unwrap_err();
    assert!(matches!(refused, Denied::Scope { .. }));
    assert_eq!(
        refused.to_string(),
        "CO-UGA is outside your scope (CO-KEN); you may view user accounts only within it"
    );
    assert!(authorize(&org, &admin, Action::ViewUsers, &code("RO-NBO")).is_err());
}

#[test]
fn a_regional_administrator_manages_the_region_only() {
    let org = org();
    let admin = user("RO-NBO", &[Role::Administrator]);
    for inside in ["RO-NBO", "CO-KEN", "CO-UGA", "SE-X"] {
        assert!(
            authorize(&org, &admin, Action::ManageUsers, &code(inside)).is_ok(),
            "{inside}"
        );
    }
    for outside in ["CO-THA", "RO-BKK", "RMU", "EO"] {
        assert!(
            authorize(&org, &admin, Action::ManageUsers, &code(outside)).is_err(),
            "{outside}"
        );
    }
}

#[test]
fn headquarters_administrators_act_everywhere_and_alone_reload_the_organization() {
    let org = org();
    let hq = user("RMU", &[Role::Administrator]);
    assert!(authorize(&org, &hq, Action::ManageUsers, &code("CO-THA")).is_ok());
    assert!(authorize(&org, &hq, Action::ReloadOrganization, &code("EO")).is_ok());
    let regional = user("RO-NBO", &[Role::Administrator]);
    assert_eq!(
        authorize(&org, &regional, Action::ReloadOrganization, &code("RO-NBO")),
        Err(Denied::HeadquartersOnly {
            action: "reload the organization"
        })
    );
}

#[test]
fn a_role_without_the_action_is_refused_with_the_roles_that_would_do() {
    let org = org();
    let viewer = user("RMU", &[Role::Viewer, Role::RiskOfficer]);
    let refused = authorize(&org, &viewer, Action::ManageUsers, &code("RMU")).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "you need one of the roles administrator to manage user accounts"
    );
    assert!(authorize(&org, &viewer, Action::ViewOrganization, &code("CO-THA")).is_ok());
    let nobody = user("CO-KEN", &[]);
    assert!(authorize(&org, &nobody, Action::ViewOrganization, &code("CO-KEN")).is_ok());
}

#[test]
fn the_operator_at_the_command_line_may_do_anything() {
    let org = org();
    let op = Actor::Operator {
        label: "root".into(),
    };
    for action in Action::ALL {
        assert!(authorize(&org, &op, action, &code("CO-THA")).is_ok());
    }
}

#[test]
fn roles_parse_in_the_forms_people_type() {
    assert_eq!(Role::parse("project-developer"), Ok(Role::ProjectDeveloper));
    assert!(Role::parse("M&E officer").is_err());
    assert_eq!(Role::parse("me_officer"), Ok(Role::MeOfficer));
    assert!(
        Role::parse("superuser")
            .unwrap_err()
            .contains("administrator")
    );
}

#[test]
fn a_regional_reviewer_reviews_projects_of_the_region_only() {
    let org = org();
    let reviewer = user("RO-NBO", &[Role::RegionalReviewer]);
    assert!(authorize(&org, &reviewer, Action::EndorseProject, &code("CO-KEN")).is_ok());
    assert!(authorize(&org, &reviewer, Action::EndorseProject, &code("CO-THA")).is_err());
    assert!(authorize(&org, &reviewer, Action::DraftProject, &code("CO-KEN")).is_err());
}

#[test]
fn a_country_office_sees_its_own_projects_and_not_its_neighbour_s() {
    let org = org();
    let viewer = user("CO-KEN", &[Role::Viewer]);
    assert!(authorize(&org, &viewer, Action::ViewProjects, &code("CO-KEN")).is_ok());
    assert!(authorize(&org, &viewer, Action::ViewProjects, &code("CO-UGA")).is_err());
    assert!(
        authorize(
            &org,
            &viewer,
            Action::ViewRestrictedProjectFields,
            &code("CO-KEN")
        )
        .is_err()
    );
    let developer = user("CO-KEN", &[Role::ProjectDeveloper]);
    assert!(
        authorize(
            &org,
            &developer,
            Action::ViewRestrictedProjectFields,
            &code("CO-KEN")
        )
        .is_ok()
    );
}

#[test]
fn delegations_and_exchange_rates_are_maintained_at_headquarters() {
    let org = org();
    let regional_admin = user("RO-NBO", &[Role::Administrator]);
    assert!(matches!(
        authorize(
            &org,
            &regional_admin,
            Action::ManageDelegations,
            &code("RO-NBO")
        ),
        Err(Denied::HeadquartersOnly { .. })
    ));
    let hq = user("RMU", &[Role::DonorRelationsOfficer]);
    assert!(authorize(&org, &hq, Action::ManageExchangeRates, &code("EO")).is_ok());
}

#[test]
fn results_are_reported_in_the_office_approved_within_scope_and_the_srf_kept_at_headquarters() {
    let org = org();
    let co_me = user("CO-KEN", &[Role::MeOfficer]);
    assert!(authorize(&org, &co_me, Action::ReportResults, &code("CO-KEN")).is_ok());
    assert!(authorize(&org, &co_me, Action::ApproveResults, &code("CO-KEN")).is_ok());
    assert!(matches!(
        authorize(&org, &co_me, Action::ApproveResults, &code("CO-UGA")),
        Err(Denied::Scope { .. })
    ));
    let regional_rbm = user("RO-NBO", &[Role::RbmOfficer]);
    assert!(
        authorize(
            &org,
            &regional_rbm,
            Action::LockReportingPeriods,
            &code("CO-UGA")
        )
        .is_ok()
    );
    assert!(matches!(
        authorize(
            &org,
            &regional_rbm,
            Action::ManageStrategicFramework,
            &code("RO-NBO")
        ),
        Err(Denied::HeadquartersOnly { .. })
    ));
    let hq_rbm = user("DSPOP-RBM", &[Role::RbmOfficer]);
    assert!(authorize(&org, &hq_rbm, Action::ManageStrategicFramework, &code("EO")).is_ok());
    let data = user("CO-KEN", &[Role::DataOfficer]);
    assert!(matches!(
        authorize(&org, &data, Action::ApproveResults, &code("CO-KEN")),
        Err(Denied::Role { .. })
    ));
}

#[test]
fn m_and_e_officers_at_headquarters_and_regional_offices_keep_the_evaluation_registry() {
    let org = org();
    let hq = user("RMU", &[Role::MeOfficer]);
    assert!(authorize(&org, &hq, Action::ManageEvaluations, &code("CO-THA")).is_ok());
    let regional = user("RO-NBO", &[Role::MeOfficer]);
    assert!(authorize(&org, &regional, Action::ManageEvaluations, &code("CO-KEN")).is_ok());
    assert!(matches!(
        authorize(&org, &regional, Action::ManageEvaluations, &code("CO-THA")),
        Err(Denied::Scope { .. })
    ));
    // A country office's M&E officer does not register evaluations, even its own.
    let country = user("CO-KEN", &[Role::MeOfficer]);
    let refused =
        authorize(&org, &country, Action::ManageEvaluations, &code("CO-KEN")).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "only headquarters and regional office staff may register and edit evaluations"
    );
    // Nor does anyone without the role.
    let approver = user("RMU", &[Role::Approver, Role::RbmOfficer]);
    assert_eq!(
        authorize(&org, &approver, Action::ManageEvaluations, &code("RMU"))
            .unwrap_err()
            .to_string(),
        "you need one of the roles me_officer to register and edit evaluations"
    );
}

#[test]
fn a_head_of_office_responds_for_their_office_only() {
    let org = org();
    let head = user("CO-KEN", &[Role::Approver]);
    assert!(authorize(&org, &head, Action::RespondToEvaluations, &code("CO-KEN")).is_ok());
    assert!(matches!(
        authorize(&org, &head, Action::RespondToEvaluations, &code("CO-UGA")),
        Err(Denied::Scope { .. })
    ));
    let focal_point = user("CO-KEN", &[Role::MeOfficer]);
    assert!(
        authorize(
            &org,
            &focal_point,
            Action::RespondToEvaluations,
            &code("CO-KEN")
        )
        .is_ok()
    );
    let developer = user("CO-KEN", &[Role::ProjectDeveloper]);
    assert!(matches!(
        authorize(
            &org,
            &developer,
            Action::RespondToEvaluations,
            &code("CO-KEN")
        ),
        Err(Denied::Role { .. })
    ));
}

#[test]
fn evaluations_are_seen_within_the_reader_s_scope() {
    let org = org();
    let nobody = user("CO-KEN", &[]);
    assert!(authorize(&org, &nobody, Action::ViewEvaluations, &code("CO-KEN")).is_ok());
    assert!(authorize(&org, &nobody, Action::ViewEvaluations, &code("CO-UGA")).is_err());
    let regional = user("RO-NBO", &[Role::Viewer]);
    assert!(authorize(&org, &regional, Action::ViewEvaluations, &code("CO-UGA")).is_ok());
    assert!(authorize(&org, &regional, Action::ViewEvaluations, &code("CO-THA")).is_err());
    let hq = user("RMU", &[Role::Viewer]);
    assert!(authorize(&org, &hq, Action::ViewEvaluations, &code("CO-THA")).is_ok());
}
