//! `meridian user add | list | disable | token`.

use crate::{connect, operator};
use anyhow::{Context, anyhow, bail};
use clap::Subcommand;
use meridian_domain::authz::Role;
use meridian_domain::org::{Organization, UnitCode};
use meridian_store::Store;
use meridian_store::users::{NewUser, UserChanges};
use std::io::Read;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account. Prints a generated password unless one is read from standard input.
    Add {
        email: String,
        /// The unit the person belongs to, by code (e.g. CO-KEN, RO-NBO, RMU).
        #[arg(long)]
        unit: String,
        /// A role; repeat or separate with commas (administrator, viewer, project_developer, …).
        #[arg(long = "role", required = true, value_delimiter = ',')]
        roles: Vec<String>,
        #[arg(long, default_value = "")]
        name: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts.
    List,
    /// Disable an account: its sessions end and it can no longer sign in or use its tokens.
    Disable { email: String },
    /// Issue an API token for an account and print it.
    Token {
        email: String,
        #[arg(long, default_value = "command line")]
        label: String,
    },
}

async fn organization(store: &Store) -> anyhow::Result<Organization> {
    store
        .organization()
        .await
        .map_err(|_| anyhow!("no organization is loaded yet: run `meridian org load` (or start `meridian serve`) first"))
}

pub async fn run(database: &str, cmd: UserCommand) -> anyhow::Result<()> {
    let store = connect(database).await?;
    let org = organization(&store).await?;
    let actor = operator();
    match cmd {
        UserCommand::Add {
            email,
            unit,
            roles,
            name,
            password_stdin,
        } => {
            let unit = UnitCode::parse(&unit).map_err(|m| anyhow!("--unit: {m}"))?;
            if org.unit(unit.as_str()).is_none() {
                bail!("--unit: there is no unit with the code {unit} (see `meridian org` or /org)");
            }
            let roles = roles
                .iter()
                .map(|r| Role::parse(r).map_err(|m| anyhow!("--role: {m}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let password = if password_stdin {
                let mut buf = String::new();
                std::io::stdin()
                    .read_to_string(&mut buf)
                    .context("reading the password from standard input")?;
                Some(buf.trim_end_matches(['\n', '\r']).to_owned())
            } else {
                None
            };
            let created = store
                .create_user(
                    &org,
                    &actor,
                    NewUser {
                        email,
                        name,
                        unit,
                        roles,
                        password,
                    },
                )
                .await?;
            let u = &created.user;
            println!(
                "Created {} in {} with roles {}.",
                u.email,
                u.unit,
                join_roles(&u.roles)
            );
            if let Some(p) = created.generated_password {
                println!("Password (one-time, to be changed at first sign-in): {p}");
            }
        }
        UserCommand::List => {
            let users = store.list_users(&org, &actor, None).await?;
            println!("{:<36} {:<10} {:<9} ROLES", "EMAIL", "UNIT", "STATUS");
            for u in users {
                println!(
                    "{:<36} {:<10} {:<9} {}",
                    u.email,
                    u.unit.as_str(),
                    if u.disabled { "disabled" } else { "active" },
                    join_roles(&u.roles)
                );
            }
        }
        UserCommand::Disable { email } => {
            let user = store
                .find_user_by_email(&email)
                .await?
                .ok_or_else(|| anyhow!("there is no account with the email {email}"))?;
            if user.disabled {
                println!("{} is already disabled.", user.email);
                return Ok(());
            }
            store
                .update_user(
                    &org,
                    &actor,
                    &user.id,
                    UserChanges {
                        disabled: Some(true),
                        version: user.version,
                        ..Default::default()
                    },
                )
                .await?;
            println!("Disabled {}.", user.email);
        }
        UserCommand::Token { email, label } => {
            let user = store
                .find_user_by_email(&email)
                .await?
                .ok_or_else(|| anyhow!("there is no account with the email {email}"))?;
            let token = store.issue_token(&org, &actor, &user.id, &label).await?;
            println!("{token}");
        }
    }
    Ok(())
}

fn join_roles(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}
