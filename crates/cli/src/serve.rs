//! `meridian serve`: load the organization, make sure someone can sign in, serve.

use crate::{OrgFileArg, connect, operator};
use anyhow::Context;
use meridian_domain::authz::Role;
use meridian_domain::org::Countries;
use meridian_store::Store;
use meridian_store::users::NewUser;
use meridian_web::{AppState, Config, OrgSnapshot};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Where to listen.
    #[arg(long, env = "MERIDIAN_ADDR", default_value = "127.0.0.1:8080")]
    addr: String,
    #[command(flatten)]
    org: OrgFileArg,
    /// The first administrator's email, used only when the database has no account yet.
    #[arg(
        long,
        env = "MERIDIAN_ADMIN_EMAIL",
        default_value = "admin@meridian.local"
    )]
    admin_email: String,
    /// Always mark cookies Secure (set when TLS ends at Meridian itself; behind a proxy,
    /// X-Forwarded-Proto: https does it per request).
    #[arg(long, env = "MERIDIAN_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Where uploaded documents are kept (created if missing).
    #[arg(
        long,
        env = "MERIDIAN_DOCUMENTS_DIR",
        default_value = "meridian-data/documents"
    )]
    documents_dir: std::path::PathBuf,
}

pub async fn run(database: &str, args: ServeArgs) -> anyhow::Result<()> {
    let org = crate::org::read(&args.org)?;
    let store = connect(database).await?;
    let summary = crate::org::load(&store, &org).await?;
    println!("{}", crate::org::describe(&summary));
    if store
        .load_srf_if_empty(&meridian_domain::builtin::srf())
        .await?
    {
        println!("Loaded the Strategic Results Framework from data/srf.toml.");
    }
    let stored = store.organization().await?;
    let first_admin = ensure_administrator(&store, &stored, &args.admin_email).await?;

    let listener = tokio::net::TcpListener::bind(&args.addr)
        .await
        .with_context(|| format!("listening on {}", args.addr))?;
    let url = format!("http://{}", listener.local_addr()?);
    if let Some((email, password)) = first_admin {
        println!();
        println!("Meridian created the first administrator account:");
        println!("  email:    {email}");
        println!("  password: {password}");
        println!("It is temporary: at first sign-in Meridian asks you to choose your own.");
        println!("Sign in at {url}/login");
        println!();
    }
    println!("Meridian is listening on {url} (database {database})");
    let state = AppState::new(
        store,
        OrgSnapshot::new(stored, Countries::builtin()),
        Config {
            org_file: args.org.org_file.clone(),
            secure_cookies: args.secure_cookies,
            documents_dir: args.documents_dir.clone(),
            ..Config::default()
        },
    );
    meridian_web::serve(listener, state, shutdown_signal()).await?;
    println!("Meridian stopped.");
    Ok(())
}

/// On an empty database, creates an administrator at the root unit with a one-time password.
async fn ensure_administrator(
    store: &Store,
    org: &meridian_domain::org::Organization,
    email: &str,
) -> anyhow::Result<Option<(String, String)>> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let created = store
        .create_user(
            org,
            &operator(),
            NewUser {
                email: email.to_owned(),
                name: "Administrator".to_owned(),
                unit: org.root().code.clone(),
                roles: vec![Role::Administrator],
                password: None,
            },
        )
        .await?;
    Ok(Some((
        created.user.email,
        created
            .generated_password
            .expect("no password was given, so one was generated"),
    )))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
