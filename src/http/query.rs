//! `axum::extract::Query`, but a query string that does not fit (a missing `url`, a width that
//! is not a number) answers our JSON error shape, not axum's plain text.

use axum::{
    extract::{FromRequestParts, rejection::QueryRejection},
    http::request::Parts,
};
use serde::de::DeserializeOwned;

use crate::http::error::AppError;

#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|rejection| query_rejection(&rejection))
    }
}

fn query_rejection(rejection: &QueryRejection) -> AppError {
    let why = rejection.body_text();
    AppError::bad_request(
        "invalid-query",
        format!("Parameter alamat tidak sah: {why}"),
        format!("Invalid query parameters: {why}"),
    )
}
