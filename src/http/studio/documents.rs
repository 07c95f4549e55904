//! `/studio/documents` (whoever manages documents): the registry of the official documents
//! briefings discuss, each with the briefings citing it, and the form adding one
//! (`service::documents::create`, as `POST /api/v1/documents`). A refusal shows the page again
//! with what was typed and the reason.

use axum::{
    Router,
    extract::{RawQuery, State},
    http::StatusCode,
    response::Response,
    routing::get,
};
use chrono::Utc;

use super::{PageError, PageForm, StudioUser, page, see_other};
use crate::{
    app::AppState,
    domain::{NewDocument, access::Action},
    http::templates::{
        studio::{Notice, msg},
        studio_documents::{self as view, Registered},
        t,
    },
    service::{self, documents},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/studio/documents", get(list).post(create))
}

async fn render(
    state: &AppState,
    user: &StudioUser,
    status: StatusCode,
    typed: &NewDocument,
    said: Option<(Notice, &str)>,
) -> Result<Response, PageError> {
    let lang = user.lang;
    let db = state.ctx.db.as_ref();
    let failed = |e: crate::db::DbError| PageError::op(lang, e.into());
    let mut registry = Vec::new();
    // A registry is tens of documents, each cited a few times: one read per document is fine.
    for document in db.list_documents(None).await.map_err(failed)? {
        let citations = db.document_citations(document.id).await.map_err(failed)?;
        registry.push(Registered {
            document,
            citations,
        });
    }
    Ok(page(
        state,
        status,
        lang,
        view::documents(&user.chrome(), &registry, typed, said),
    ))
}

fn empty() -> NewDocument {
    NewDocument {
        title: String::new(),
        number: None,
        kind: None,
        issuer: None,
        issued_on: None,
        url: None,
    }
}

#[tracing::instrument(skip_all)]
async fn list(
    State(state): State<AppState>,
    user: StudioUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    user.require_somewhere(Action::ManageDocuments)?;
    let done = (query.as_deref() == Some("done=1")).then(|| {
        (
            Notice::Done,
            t(user.lang, "Dokumen tersimpan.", "Document saved."),
        )
    });
    render(&state, &user, StatusCode::OK, &empty(), done).await
}

#[tracing::instrument(skip_all)]
async fn create(
    State(state): State<AppState>,
    user: StudioUser,
    PageForm(typed): PageForm<NewDocument>,
) -> Result<Response, PageError> {
    user.require_somewhere(Action::ManageDocuments)?;
    let lang = user.lang;
    let created = match typed.clone().parse(Utc::now()) {
        Ok(document) => documents::create(&state.ctx, &user.actor(), document).await,
        Err(rejection) => Err(service::Error::from(rejection)),
    };
    match created {
        Ok(_) => Ok(see_other("/studio/documents?done=1")),
        Err(e @ service::Error::Invalid { .. }) => {
            let text = msg(lang, &e.message()).to_owned();
            let said = Some((Notice::Error, text.as_str()));
            render(
                &state,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                &typed,
                said,
            )
            .await
        }
        Err(e) => Err(PageError::op(lang, e)),
    }
}
