//! The studio's accounts (issue 23): users made by the `siaran` binary, signing in over HTTP
//! with a cookie jar, sessions (a new id at login, ended when the user is disabled or idle),
//! throttled logins across instances, CSRF, roles on the API (a contributor never publishes,
//! a role on one show), tokens made in the studio, and hostile names escaped.

use std::{process::Stdio, sync::Arc, time::Duration};

use reqwest::{StatusCode, cookie::CookieStore as _, header, redirect::Policy};
use serde_json::{Value, json};
use siaran::{
    domain::{audit::Actor, users::ShowRole},
    service::users,
};

use crate::{
    helpers::{Backend, TestApp, sha256_hex},
    on_both_backends,
};

pub(crate) const PASSWORD: &str = "kopi tubruk pagi hari";

/// Runs `siaran ARGS` on the app's database; `stdin` goes to its standard input.
pub(crate) fn siaran(app: &TestApp, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_siaran"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SIARAN_DATABASE_URL", app.db_url())
        .env("SIARAN_PUBLIC_URL", &app.base)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run siaran");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("siaran output")
}

/// `siaran user create ... --password-stdin`.
pub(crate) fn create_user(app: &TestApp, email: &str, name: &str, role: &str) {
    let out = siaran(
        app,
        &[
            "user",
            "create",
            "--email",
            email,
            "--name",
            name,
            "--role",
            role,
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(
        out.status.success(),
        "user create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A browser: its own cookie jar, redirects not followed (so that they can be looked at).
pub(crate) struct Browser {
    pub(crate) http: reqwest::Client,
    pub(crate) jar: Arc<reqwest::cookie::Jar>,
    pub(crate) base: String,
}

impl Browser {
    pub(crate) fn new(app: &TestApp) -> Browser {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        Browser {
            http: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(Policy::none())
                .build()
                .unwrap(),
            jar,
            base: app.base.clone(),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// The page's text.
    pub(crate) async fn page(&self, path: &str) -> (StatusCode, String) {
        let res = self.get(path).await;
        (res.status(), res.text().await.unwrap())
    }

    /// The value of cookie `name` in the jar.
    fn cookie(&self, name: &str) -> Option<String> {
        let header = self.jar.cookies(&self.base.parse().unwrap())?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|c| c.strip_prefix(&format!("{name}=")).map(str::to_owned))
    }

    fn session(&self) -> Option<String> {
        self.cookie("siaran_session")
    }

    /// Posts `fields` to `path` with the CSRF token of the page at `form_page`, and `headers`.
    pub(crate) async fn post_form(
        &self,
        form_page: &str,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let (_, html) = self.page(form_page).await;
        let token = csrf_of(&html);
        let mut form: Vec<(&str, &str)> = vec![("csrf", &token)];
        form.extend_from_slice(fields);
        let mut req = self.http.post(self.url(path)).form(&form);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    pub(crate) async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form(
            "/studio/login",
            "/studio/login",
            &[("email", email), ("password", password)],
            &[],
        )
        .await
    }

    pub(crate) async fn login_ok(&self, email: &str) {
        let res = self.login(email, PASSWORD).await;
        assert_eq!(res.status(), 303, "login of {email}");
        assert_eq!(res.headers()[header::LOCATION], "/studio");
    }

    /// Creates a token on the tokens page; returns its secret.
    pub(crate) async fn create_token(&self, name: &str) -> String {
        let res = self
            .post_form("/studio/tokens", "/studio/tokens", &[("name", name)], &[])
            .await;
        assert_eq!(res.status(), 201);
        let html = res.text().await.unwrap();
        let secret = html
            .split("readonly value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the new token on the page")
            .to_owned();
        assert!(secret.starts_with("siaran_"), "{secret}");
        secret
    }
}

/// The CSRF token of a page's first form.
pub(crate) fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no CSRF field in {html}"))
        .to_owned()
}

pub(crate) async fn rows(app: &TestApp, sql: &str) -> i64 {
    let db = siaran::db::AnyDb::connect(&app.db_url()).await.unwrap();
    let row: (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(db.pool())
        .await
        .unwrap();
    row.0
}

/// A user made by the binary signs in over HTTP: the session id changes at login (a session
/// planted before it, or one held before it, is not the signed-in one), the cookie is HttpOnly
/// and SameSite=Lax, and the studio's pages answer.
async fn signing_in_starts_a_new_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "Admin@Kaltimprov.go.id", "Ani Admin", "admin");
    let browser = Browser::new(&app);

    // Not signed in: pages go to the login page, the API answers 401 JSON.
    let res = browser.get("/studio/tokens").await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()[header::LOCATION],
        "/studio/login?next=%2Fstudio%2Ftokens"
    );
    let res = browser.get("/studio/no-such-page").await;
    assert_eq!(res.status(), 303);
    let res = browser
        .http
        .post(browser.url("/api/v1/media?filename=a.mp3"))
        .body(vec![1u8])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // A session id fixed before signing in (planted by another site, say) is not kept.
    let planted = "AAAAAAAAAAAAAAAAAAAAAA";
    browser.jar.add_cookie_str(
        &format!("siaran_session={planted}; Path=/"),
        &app.base.parse().unwrap(),
    );
    let login_token = csrf_of(&browser.page("/studio/login").await.1);
    // The email in another case is the same user.
    let res = browser.login("admin@kaltimprov.go.id", PASSWORD).await;
    assert_eq!(res.status(), 303);
    let set_cookie: Vec<String> = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session_cookie = set_cookie
        .iter()
        .find(|c| c.starts_with("siaran_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session_cookie.contains(attribute), "{session_cookie}");
    }
    assert!(
        !session_cookie.contains("Secure"),
        "http here: {session_cookie}"
    );
    let first = browser.session().expect("signed in");
    assert_ne!(first, planted);

    let (status, html) = browser.page("/studio").await;
    assert_eq!(status, 200);
    assert!(html.contains("Ani Admin"), "{html}");
    assert!(html.contains("<h1>Dasbor</h1>"), "{html}");

    // Signing in again while signed in (the form posted from a page loaded before) gives
    // another id, and the old one is over.
    let res = browser
        .http
        .post(browser.url("/studio/login"))
        .form(&[
            ("csrf", login_token.as_str()),
            ("email", "admin@kaltimprov.go.id"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let second = browser.session().unwrap();
    assert_ne!(first, second);
    let old = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let res = old
        .get(app.url("/studio"))
        .header(header::COOKIE, format!("siaran_session={first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "the session held before login is gone");

    // Only the hash of a session id is stored.
    assert_eq!(
        rows(
            &app,
            &format!("SELECT COUNT(*) FROM sessions WHERE id_hash LIKE '%{second}%'")
        )
        .await,
        0
    );
    assert_eq!(rows(&app, "SELECT COUNT(*) FROM sessions").await, 1);

    // Signing out ends it.
    let res = browser
        .post_form("/studio", "/studio/logout", &[], &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[header::LOCATION], "/studio/login");
    assert_eq!(browser.get("/studio").await.status(), 303);
    assert_eq!(rows(&app, "SELECT COUNT(*) FROM sessions").await, 0);
}
on_both_backends!(signing_in_starts_a_new_session);

/// A wrong password and an unknown email show the form again with the same message; the 11th
/// failure against an account, or from an address, within 15 minutes answers 429 with
/// `Retry-After`, whichever instance counted the failures.
async fn failed_logins_are_throttled_across_instances(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.trust_forwarded = true).await;
    let peer = app.spawn_peer().await;
    create_user(&app, "ani@kaltimprov.go.id", "Ani", "editor");
    create_user(&app, "budi@kaltimprov.go.id", "Budi", "editor");
    let (a, b) = (&app, &peer);

    // Each attempt from a browser of its own, signed in or not before.
    let attempt = |instance: &TestApp, email: &str, password: &str, address: &str| {
        let (email, password, address) =
            (email.to_owned(), password.to_owned(), address.to_owned());
        let browser = Browser::new(instance);
        let (http, base) = (browser.http, browser.base);
        async move {
            let page = http
                .get(format!("{base}/studio/login"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            http.post(format!("{base}/studio/login"))
                .header("x-forwarded-for", address)
                .header(header::ACCEPT_LANGUAGE, "en")
                .form(&[
                    ("csrf", csrf_of(&page).as_str()),
                    ("email", email.as_str()),
                    ("password", password.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };

    // A wrong password and an unknown user: the same page, the same message.
    let wrong = attempt(a, "ani@kaltimprov.go.id", "salah salah salah", "10.0.0.1").await;
    assert_eq!(wrong.status(), 401);
    let wrong = wrong.text().await.unwrap();
    assert!(wrong.contains("Wrong email or password."), "{wrong}");
    assert!(wrong.contains("value=\"ani@kaltimprov.go.id\""), "{wrong}");
    assert!(wrong.contains("name=\"password\""), "the form again");
    let unknown = attempt(b, "siapa@kaltimprov.go.id", "salah salah salah", "10.0.0.2").await;
    assert_eq!(unknown.status(), 401);
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("Wrong email or password.")
    );

    // Nine more failures against Ani, from other addresses, on both instances: ten.
    for i in 0..9 {
        let browser = if i % 2 == 0 { a } else { b };
        let res = attempt(
            browser,
            "ANI@kaltimprov.go.id",
            "salah salah salah",
            &format!("10.0.1.{i}"),
        )
        .await;
        assert_eq!(res.status(), 401, "failure {}", i + 2);
    }
    // The eleventh is refused, the right password unchecked, on either instance.
    for instance in [a, b] {
        let res = attempt(instance, "ani@kaltimprov.go.id", PASSWORD, "10.0.2.1").await;
        assert_eq!(res.status(), 429);
        let retry: i64 = res.headers()[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((800..=900).contains(&retry), "Retry-After: {retry}");
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("Too many failed sign-in attempts")
        );
    }
    // Another account is not throttled by Ani's failures.
    assert_eq!(
        attempt(a, "budi@kaltimprov.go.id", PASSWORD, "10.0.2.2")
            .await
            .status(),
        303
    );

    // Ten failures from one address, against other accounts: that address waits.
    for i in 0..10 {
        let res = attempt(
            if i % 2 == 0 { a } else { b },
            &format!("user{i}@kaltimprov.go.id"),
            "salah salah salah",
            "10.0.9.9",
        )
        .await;
        assert_eq!(res.status(), 401);
    }
    let res = attempt(b, "budi@kaltimprov.go.id", PASSWORD, "10.0.9.9").await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(
        attempt(b, "budi@kaltimprov.go.id", PASSWORD, "10.0.9.10")
            .await
            .status(),
        303
    );
}
on_both_backends!(failed_logins_are_throttled_across_instances);

/// A form posted from another site is refused (403), with or without the session's token; so
/// is a form without the token; the API takes the session cookie for a write only from the
/// studio's own pages.
async fn cross_site_posts_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "ani@kaltimprov.go.id", "Ani", "editor");
    let browser = Browser::new(&app);
    browser.login_ok("ani@kaltimprov.go.id").await;

    let token_rows = || {
        rows(
            &app,
            "SELECT COUNT(*) FROM api_tokens WHERE user_id IS NOT NULL",
        )
    };
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "null")],
    ] {
        let res = browser
            .post_form(
                "/studio/tokens",
                "/studio/tokens",
                &[("name", "x")],
                &headers,
            )
            .await;
        assert_eq!(res.status(), 403, "{headers:?}");
        let html = res.text().await.unwrap();
        assert!(html.contains("Permintaan ditolak"), "{html}");
    }
    // Without the token, whatever the headers say.
    let res = browser
        .http
        .post(browser.url("/studio/tokens"))
        .form(&[("name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = browser
        .http
        .post(browser.url("/studio/tokens"))
        .form(&[("name", "x"), ("csrf", "tebakan")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(token_rows().await, 0);
    // Signing out from another site does not either.
    let res = browser
        .post_form(
            "/studio",
            "/studio/logout",
            &[],
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(browser.get("/studio").await.status(), 200);

    // The studio's own page, as a browser sends it.
    let res = browser
        .post_form(
            "/studio/tokens",
            "/studio/tokens",
            &[("name", "skrip")],
            &[("origin", &app.base), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(token_rows().await, 1);

    // The login form is checked too.
    let anonymous = Browser::new(&app);
    let res = anonymous
        .post_form(
            "/studio/login",
            "/studio/login",
            &[("email", "ani@kaltimprov.go.id"), ("password", PASSWORD)],
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(res.status(), 403);
    assert!(anonymous.session().is_none());

    // The API with the session cookie: a write from another site is refused, one from the
    // studio's pages is taken (the upload form's fallback without JavaScript).
    let upload = |origin: &'static str| {
        browser
            .http
            .post(browser.url("/api/v1/media?filename=rapat.mp3"))
            .header("origin", origin)
            .body(crate::helpers::sample_bytes("briefing-demo.mp3"))
            .send()
    };
    let res = upload("https://evil.example").await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "forbidden");
    assert_eq!(app.count_rows("media").await, 0);
    let origin: &'static str = Box::leak(app.base.clone().into_boxed_str());
    let res = upload(origin).await.unwrap();
    assert_eq!(res.status(), 201);
}
on_both_backends!(cross_site_posts_are_refused);

/// Disabling a user (`siaran user disable`) ends its sessions at once and stops its tokens;
/// `reset-password` ends sessions and the old password, and its link sets a new one.
async fn disabling_and_resetting_end_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    create_user(&app, "ani@kaltimprov.go.id", "Ani", "editor");
    let browser = Browser::new(&app);
    browser.login_ok("ani@kaltimprov.go.id").await;
    let token = browser.create_token("skrip").await;
    let shows = |t: String| {
        let app = &app;
        async move {
            app.http
                .get(app.url("/api/v1/shows/x/episodes"))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        shows(token.clone()).await,
        404,
        "a live token: the show is missing"
    );

    // reset-password: the session ends, the password stops working, the link sets a new one.
    let out = siaran(
        &app,
        &["user", "reset-password", "--email", "ANI@kaltimprov.go.id"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let path = link
        .strip_prefix(&app.base)
        .expect("a link under the public URL");
    assert!(path.starts_with("/studio/password/"), "{link}");
    assert_eq!(browser.get("/studio").await.status(), 303, "session ended");
    assert_eq!(
        browser
            .login("ani@kaltimprov.go.id", PASSWORD)
            .await
            .status(),
        401
    );

    let setter = Browser::new(&app);
    let (status, html) = setter.page(path).await;
    assert_eq!(status, 200);
    assert!(html.contains("ani@kaltimprov.go.id"), "{html}");
    let new_password = "teh manis sore hari";
    let post = |fields: Vec<(&'static str, String)>| {
        let setter = &setter;
        async move {
            let (_, html) = setter.page(path).await;
            let mut form = vec![("csrf", csrf_of(&html))];
            form.extend(fields);
            setter
                .http
                .post(setter.url(path))
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let res = post(vec![
        ("password", new_password.into()),
        ("confirm", "teh manis sore hari!".into()),
    ])
    .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Kedua kata sandi tidak sama")
    );
    let res = post(vec![
        ("password", "pendek".into()),
        ("confirm", "pendek".into()),
    ])
    .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Kata sandi minimal 12 karakter")
    );
    let res = post(vec![
        ("password", new_password.into()),
        ("confirm", new_password.into()),
    ])
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()[header::LOCATION],
        "/studio/login?done=password"
    );
    // The link is used up.
    assert_eq!(setter.page(path).await.0, 404);
    let res = browser.login("ani@kaltimprov.go.id", new_password).await;
    assert_eq!(res.status(), 303);
    assert_eq!(browser.get("/studio").await.status(), 200);

    // disable: the session ends at once, the token stops.
    let out = siaran(
        &app,
        &["user", "disable", "--email", "ani@kaltimprov.go.id"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(browser.get("/studio").await.status(), 303);
    assert_eq!(
        rows(
            &app,
            "SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL"
        )
        .await,
        0
    );
    assert_eq!(shows(token).await, 401);
    assert_eq!(
        browser
            .login("ani@kaltimprov.go.id", new_password)
            .await
            .status(),
        401
    );

    // Errors: non-zero, one line on stderr.
    for args in [
        vec!["user", "disable", "--email", "siapa@kaltimprov.go.id"],
        vec![
            "user",
            "create",
            "--email",
            "ani@kaltimprov.go.id",
            "--name",
            "Ani Lagi",
            "--role",
            "editor",
        ],
    ] {
        let out = siaran(&app, &args, None);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
    let out = siaran(
        &app,
        &[
            "user",
            "create",
            "--email",
            "c@kaltimprov.go.id",
            "--name",
            "C",
            "--role",
            "editor",
            "--password-stdin",
        ],
        Some("pendek\n"),
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("at least 12 characters"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rows(&app, "SELECT COUNT(*) FROM users").await, 1);
}
on_both_backends!(disabling_and_resetting_end_sessions);

/// A user made without --password-stdin gets a link (valid 72 hours) that sets its password.
async fn a_new_user_sets_its_password_through_the_link(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let out = siaran(
        &app,
        &[
            "user",
            "create",
            "--email",
            "budi@kaltimprov.go.id",
            "--name",
            "Budi",
            "--role",
            "contributor",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let path = link.strip_prefix(&app.base).unwrap().to_owned();
    let browser = Browser::new(&app);
    // No password yet: the login fails as any other.
    assert_eq!(
        browser
            .login("budi@kaltimprov.go.id", PASSWORD)
            .await
            .status(),
        401
    );
    let res = browser
        .post_form(
            &path,
            &path,
            &[("password", PASSWORD), ("confirm", PASSWORD)],
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    browser.login_ok("budi@kaltimprov.go.id").await;
    // The link is stored hashed.
    let secret = path.rsplit('/').next().unwrap();
    assert_eq!(
        rows(
            &app,
            &format!("SELECT COUNT(*) FROM password_links WHERE token_hash LIKE '%{secret}%'")
        )
        .await,
        0
    );
}
on_both_backends!(a_new_user_sets_its_password_through_the_link);

/// Tokens act with their owner's role: a contributor uploads, drafts and edits drafts but gets
/// 403 `forbidden` (naming the action, in the asked language) on publishing, scheduling and
/// withdrawing; an editor publishes; the history names both users.
async fn contributors_never_publish(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_show("kaltim").await;
    create_user(
        &app,
        "kontributor@kaltimprov.go.id",
        "Citra Kontributor",
        "contributor",
    );
    create_user(&app, "editor@kaltimprov.go.id", "Dedi Editor", "editor");
    let contributor = Browser::new(&app);
    contributor.login_ok("kontributor@kaltimprov.go.id").await;
    let citra = contributor.create_token("unggah").await;
    let editor = Browser::new(&app);
    editor.login_ok("editor@kaltimprov.go.id").await;
    let dedi = editor.create_token("terbit").await;

    let media = app
        .http
        .post(app.url("/api/v1/media?filename=rapat.mp3"))
        .bearer_auth(&citra)
        .body(crate::helpers::sample_bytes("briefing-demo.mp3"))
        .send()
        .await
        .unwrap();
    assert_eq!(media.status(), 201);
    let media: Value = media.json().await.unwrap();
    let draft = app
        .post_json(
            "/api/v1/shows/kaltim/episodes",
            Some(&citra),
            &json!({"title": "Rapat koordinasi", "media_id": media["id"]}),
        )
        .await;
    assert_eq!(draft.status(), 201);
    let episode: Value = draft.json().await.unwrap();
    let id = episode["id"].as_str().unwrap().to_owned();
    let patch = |token: &str, body: Value| {
        app.http
            .patch(app.url(&format!("/api/v1/episodes/{id}")))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    assert_eq!(
        patch(&citra, json!({"title": "Rapat koordinasi (revisi)"}))
            .await
            .unwrap()
            .status(),
        200
    );

    // Publishing in every way it can be asked for: 403, naming the action.
    let forbidden = |res: reqwest::Response| async move {
        assert_eq!(res.status(), 403);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["code"], "forbidden");
        body["message"].as_str().unwrap().to_owned()
    };
    let res = app
        .http
        .post(app.url(&format!("/api/v1/episodes/{id}/publish")))
        .bearer_auth(&citra)
        .header(header::ACCEPT_LANGUAGE, "en")
        .send()
        .await
        .unwrap();
    let message = forbidden(res).await;
    assert!(message.contains("publish"), "{message}");
    let res = app
        .post_json(
            &format!("/api/v1/episodes/{id}/publish"),
            Some(&citra),
            &json!({}),
        )
        .await;
    let message = forbidden(res).await;
    assert!(message.contains("menerbitkan"), "{message}");
    forbidden(
        patch(&citra, json!({"publish_at": "2030-01-01T00:00:00Z"}))
            .await
            .unwrap(),
    )
    .await;
    forbidden(
        app.post_json(
            "/api/v1/shows/kaltim/episodes",
            Some(&citra),
            &json!({"title": "Langsung", "media_id": media["id"],
                    "publish_at": "2024-01-01T00:00:00Z"}),
        )
        .await,
    )
    .await;
    // Nor manage shows or documents.
    forbidden(
        app.post_json(
            "/api/v1/documents",
            Some(&citra),
            &json!({"title": "SK", "kind": "sk"}),
        )
        .await,
    )
    .await;

    // The editor publishes; then the contributor may no longer change it, nor withdraw it.
    let res = app
        .post_json(
            &format!("/api/v1/episodes/{id}/publish"),
            Some(&dedi),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    forbidden(patch(&citra, json!({"title": "Diubah"})).await.unwrap()).await;
    forbidden(
        app.http
            .put(app.url(&format!("/api/v1/episodes/{id}/withdrawal")))
            .bearer_auth(&citra)
            .json(&json!({"reason": "salah"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    // An editor may not manage shows.
    forbidden(
        app.post_json("/api/v1/shows", Some(&dedi), &json!({"slug": "baru"}))
            .await,
    )
    .await;

    // The history names both users.
    let history = app.history(&format!("/api/v1/episodes/{id}/history")).await;
    assert_eq!(
        history,
        vec![
            ("created".to_owned(), "Citra Kontributor".to_owned()),
            ("updated".to_owned(), "Citra Kontributor".to_owned()),
            ("published".to_owned(), "Dedi Editor".to_owned()),
        ]
    );

    // `siaran token create` still makes tokens without an owner, of any role.
    let out = siaran(
        &app,
        &["token", "create", "--name", "ci", "--role", "contributor"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ci = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    forbidden(
        app.post_json(
            &format!("/api/v1/episodes/{id}/publish"),
            Some(&ci),
            &json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(
        app.post_json(
            &format!("/api/v1/episodes/{id}/publish"),
            Some(&app.editor_token),
            &json!({})
        )
        .await
        .status(),
        200,
        "a token from before users keeps its role"
    );
}
on_both_backends!(contributors_never_publish);

/// A user's role on one show replaces its own there: a contributor who edits one show
/// publishes there, and a show that is not its own is not touched (403) nor listed.
async fn a_role_on_one_show(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for slug in ["pertama", "kedua", "ketiga"] {
        app.create_show(slug).await;
    }
    create_user(&app, "eka@kaltimprov.go.id", "Eka", "contributor");
    let db = app.state.ctx.db.as_ref();
    let eka = users::by_email(db, "eka@kaltimprov.go.id").await.unwrap();
    let admin = Actor::system("test");
    for (slug, role) in [("pertama", ShowRole::Editor), ("kedua", ShowRole::None)] {
        let show = siaran::service::shows::load(&app.state.ctx, slug)
            .await
            .unwrap();
        users::set_show_role(db, &admin, &eka, &show, Some(role))
            .await
            .unwrap();
    }
    let browser = Browser::new(&app);
    browser.login_ok("eka@kaltimprov.go.id").await;
    let token = browser.create_token("skrip").await;
    let (_, html) = browser.page("/studio").await;
    assert!(html.contains("Siaran Pers pertama"), "{html}");
    assert!(html.contains("Siaran Pers ketiga"), "{html}");
    assert!(!html.contains("Siaran Pers kedua"), "{html}");

    let media: Value = app
        .http
        .post(app.url("/api/v1/media?filename=rapat.mp3"))
        .bearer_auth(&token)
        .body(crate::helpers::sample_bytes("briefing-demo.mp3"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let create = |slug: &'static str, published: bool| {
        let mut body = json!({"title": "Rapat", "media_id": media["id"]});
        if published {
            body["publish_at"] = json!("2024-01-01T00:00:00Z");
        }
        let (app, token) = (&app, &token);
        async move {
            app.post_json(
                &format!("/api/v1/shows/{slug}/episodes"),
                Some(token),
                &body,
            )
            .await
            .status()
        }
    };
    assert_eq!(create("pertama", true).await, 201, "editor of this show");
    assert_eq!(create("ketiga", false).await, 201, "its own role: a draft");
    assert_eq!(
        create("ketiga", true).await,
        403,
        "its own role: no publishing"
    );
    assert_eq!(create("kedua", false).await, 403, "not its show");
    // Drafts of a show that is not its own stay hidden from it.
    let drafts = |slug: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            app.http
                .get(app.url(&format!("/api/v1/shows/{slug}/episodes")))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<Vec<Value>>()
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(drafts("ketiga").await, 1);
    assert_eq!(
        app.post_json(
            "/api/v1/shows/kedua/episodes",
            Some(&app.editor_token),
            &json!({"title": "Draf kedua", "media_id": media["id"]}),
        )
        .await
        .status(),
        201
    );
    assert_eq!(drafts("kedua").await, 0);
}
on_both_backends!(a_role_on_one_show);

/// A token made in the studio works on the API, is stored hashed and shown once, and stops
/// when revoked; a hostile display name and token name are escaped on every page.
async fn studio_tokens_and_hostile_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hostile = "<script>alert(\"x\")</script> & <b>";
    create_user(&app, "ani@kaltimprov.go.id", hostile, "editor");
    let browser = Browser::new(&app);
    browser.login_ok("ani@kaltimprov.go.id").await;
    let secret = browser.create_token(hostile).await;

    let res = app
        .http
        .get(app.url("/api/v1/shows/x/episodes"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "the token is taken; the show is missing");
    assert_eq!(
        rows(
            &app,
            &format!(
                "SELECT COUNT(*) FROM api_tokens WHERE token_hash = '{}'",
                sha256_hex(secret.as_bytes())
            )
        )
        .await,
        1
    );
    assert_eq!(
        rows(
            &app,
            &format!(
                "SELECT COUNT(*) FROM api_tokens WHERE token_hash LIKE '%{}%' OR name LIKE '%{}%'",
                &secret[7..],
                &secret[7..]
            )
        )
        .await,
        0
    );

    for path in ["/studio", "/studio/tokens"] {
        let (status, html) = browser.page(path).await;
        assert_eq!(status, 200);
        assert!(!html.contains("<script>"), "{path}: {html}");
        assert!(!html.contains("<b>"), "{path}: {html}");
        assert!(
            html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;"),
            "{path}: {html}"
        );
        assert!(!html.contains(&secret), "shown once: {path}");
    }
    let (_, html) = browser.page("/studio/tokens").await;
    let id = html
        .split("action=\"/studio/tokens/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    let revoke = format!("/studio/tokens/{id}/revoke");
    let res = browser.post_form("/studio/tokens", &revoke, &[], &[]).await;
    assert_eq!(res.status(), 303);
    let res = app
        .http
        .get(app.url("/api/v1/shows/x/episodes"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // Another user's token is not found by this one's revoke.
    assert_eq!(
        browser
            .post_form("/studio/tokens", &revoke, &[], &[])
            .await
            .status(),
        404
    );
}
on_both_backends!(studio_tokens_and_hostile_names);

/// The studio speaks Indonesian first, English by `Accept-Language` or by the switch, whose
/// choice is kept in a cookie.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_switch_is_kept() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    let browser = Browser::new(&app);
    let (_, html) = browser.page("/studio/login").await;
    assert!(html.contains("<html lang=\"id\">"), "{html}");
    assert!(html.contains("Masuk ke studio"));
    let res = browser
        .get("/studio/lang?to=en&back=%2Fstudio%2Flogin")
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()[header::LOCATION], "/studio/login");
    let (_, html) = browser.page("/studio/login").await;
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(html.contains("Sign in to the studio"));
    // Never back to another site.
    let res = browser
        .get("/studio/lang?to=id&back=https://evil.example")
        .await;
    assert_eq!(res.headers()[header::LOCATION], "/studio");
    let res = app
        .http
        .get(app.url("/studio/login"))
        .header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()[header::CONTENT_LANGUAGE], "en");
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
}

/// A session without a request for `SIARAN_SESSION_IDLE` ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_end() {
    let app = TestApp::spawn_with(Backend::SqliteFs, |s| {
        s.session_idle = Duration::from_secs(2);
    })
    .await;
    create_user(&app, "ani@kaltimprov.go.id", "Ani", "editor");
    let browser = Browser::new(&app);
    browser.login_ok("ani@kaltimprov.go.id").await;
    assert_eq!(browser.get("/studio").await.status(), 200);
    let old = browser.session().expect("signed in");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let res = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
        .get(app.url("/studio"))
        .header(header::COOKIE, format!("siaran_session={old}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "idle for longer than the setting");
}

/// A person signs in with Chromium, by keyboard alone: the login page and the dashboard hold
/// at 360 px without sideways scrolling, under the pages' CSP without a violation; the session
/// cookie is HttpOnly and SameSite=Lax; a form on another origin of the same site (another port
/// of 127.0.0.1, whose POST the Lax cookie goes with) is refused. Screenshots at 1280 and
/// 360 px are kept in `target/tmp/studio-*.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_with_chromium() {
    let app = TestApp::spawn(Backend::SqliteFs).await;
    create_user(&app, "ani@kaltimprov.go.id", "Ani Rahmawati", "editor");
    let port = crate::helpers::free_port();
    let args = [
        app.url("/studio"),
        "ani@kaltimprov.go.id".to_owned(),
        PASSWORD.to_owned(),
        port.to_string(),
        env!("CARGO_TARGET_TMPDIR").to_owned(),
    ];
    let seen = crate::helpers::run_node("studio-login.js", Vec::from(args)).await;
    assert_eq!(seen["loginUrl"], "/studio/login?next=%2Fstudio", "{seen}");
    assert_eq!(seen["focused"], "email", "{seen}");
    assert_eq!(seen["focusedAfterTab"], "password", "{seen}");
    assert_eq!(seen["after"], "/studio", "signed in: {seen}");
    // Chromium asks for English (Accept-Language: en-US).
    assert_eq!(seen["h1"], "Dashboard", "{seen}");
    assert_eq!(
        seen["styled"], "832px",
        "the studio's styles applied: {seen}"
    );
    assert_eq!(
        seen["sideways"],
        json!({"login360": false, "login1280": false,
               "dashboard360": false, "dashboard1280": false}),
        "{seen}"
    );
    assert_eq!(
        seen["cookie"],
        json!({"httpOnly": true, "sameSite": "Lax", "path": "/"}),
        "{seen}"
    );
    assert_eq!(
        seen["crossSite"],
        json!({"status": 403, "h1": "Request refused"}),
        "{seen}"
    );
    assert_eq!(seen["csp"], json!([]), "no CSP violation: {seen}");
    assert_eq!(
        rows(
            &app,
            "SELECT COUNT(*) FROM api_tokens WHERE user_id IS NOT NULL"
        )
        .await,
        0
    );
    for shot in ["studio-login-360", "studio-dashboard-1280"] {
        let file = format!("{}/{shot}.png", env!("CARGO_TARGET_TMPDIR"));
        assert!(std::fs::metadata(&file).unwrap().len() > 5_000, "{file}");
    }
}
