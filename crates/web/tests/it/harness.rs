//! A real server on port 0 with a fresh database (SQLite, or PostgreSQL when
//! MERIDIAN_TEST_POSTGRES_URL is set) and the built-in organization loaded.

use meridian_domain::authz::{Actor, Role};
use meridian_domain::org::{Countries, UnitCode};
use meridian_store::Store;
use meridian_store::testing::TestDb;
use meridian_store::users::NewUser;
use meridian_web::{AppState, Config, OrgSnapshot};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub url: String,
    pub store: Store,
    pub state: AppState,
    _db: TestDb,
    _documents: tempfile::TempDir,
    _server: tokio::task::JoinHandle<()>,
}

pub fn operator() -> Actor {
    Actor::Operator {
        label: "test".into(),
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Config::default()).await
    }

    pub async fn spawn_with(mut config: Config) -> Self {
        let documents = tempfile::tempdir().expect("a folder for documents");
        config.documents_dir = documents.path().to_owned();
        let db = TestDb::new().await;
        let store = Store::connect(&db.url)
            .await
            .expect("the test database opens");
        let org = meridian_domain::builtin::organization();
        let countries = Countries::builtin();
        store
            .load_organization(&operator(), None, &org, &countries)
            .await
            .expect("the built-in organization loads");
        store
            .load_srf_if_empty(&meridian_domain::builtin::srf())
            .await
            .expect("the built-in results framework loads");
        let stored = store
            .organization()
            .await
            .expect("the organization reads back");
        let state = AppState::new(store.clone(), OrgSnapshot::new(stored, countries), config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server_state = state.clone();
        let server = tokio::spawn(async move {
            meridian_web::serve(listener, server_state, std::future::pending())
                .await
                .unwrap();
        });
        Self {
            url,
            store,
            state,
            _db: db,
            _documents: documents,
            _server: server,
        }
    }

    /// Creates an account with a known password that need not be changed.
    pub async fn user(&self, email: &str, unit: &str, roles: &[Role]) -> String {
        let org = self.state.org();
        self.store
            .create_user(
                &org.org,
                &operator(),
                NewUser {
                    email: email.into(),
                    name: String::new(),
                    unit: UnitCode::parse(unit).unwrap(),
                    roles: roles.to_vec(),
                    password: Some(PASSWORD.into()),
                },
            )
            .await
            .expect("the test user is created")
            .user
            .id
    }

    /// A client signed in as `email` through the API, sending its CSRF token on changes.
    pub async fn signed_in(&self, email: &str) -> Session {
        let client = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = client
            .post(format!("{}/api/v1/auth/login", self.url))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "sign-in of {email}");
        let body: Value = response.json().await.unwrap();
        Session {
            client,
            url: self.url.clone(),
            csrf: body["csrf_token"].as_str().unwrap().to_owned(),
        }
    }

    /// A client with no session.
    pub fn anonymous(&self) -> Session {
        Session {
            client: Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            url: self.url.clone(),
            csrf: String::new(),
        }
    }

    /// A user and a client signed in as them.
    pub async fn as_user(&self, email: &str, unit: &str, roles: &[Role]) -> Session {
        self.user(email, unit, roles).await;
        self.signed_in(email).await
    }
}

pub struct Session {
    pub client: Client,
    pub url: String,
    pub csrf: String,
}

impl Session {
    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let r = self.get(path).await;
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let r = self
            .client
            .request(method, format!("{}{path}", self.url))
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_json(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send_json(reqwest::Method::POST, path, body).await
    }

    pub async fn patch_json(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send_json(reqwest::Method::PATCH, path, body).await
    }

    /// Posts a file as the request body, with the session's CSRF token: the uploads of the
    /// API (result sheets, office templates, IATI files).
    pub async fn post_bytes(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.url))
            .header("x-csrf-token", &self.csrf)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Posts a form as a browser would, with the session's CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut fields: Vec<(&str, &str)> = fields.to_vec();
        fields.push(("csrf", &self.csrf));
        self.client
            .post(format!("{}{path}", self.url))
            .form(&fields)
            .send()
            .await
            .unwrap()
    }
}

/// The error code of an API error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}
