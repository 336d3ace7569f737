//! `workforce/items/{id}`.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::json::ApiPath;
use crate::service::workforces;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct WorkforcePath {
    workforce_id: String,
}

/// `GET workforce/items/{workforce_id}`: any workforce for an API key, only its own for a
/// workforce embed key, none for an agent embed key.
pub(crate) async fn get_workforce(
    principal: Principal,
    State(state): State<AppState>,
    ApiPath(WorkforcePath { workforce_id }): ApiPath<WorkforcePath>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let workforce = workforces::workforce(&state, &principal, workforce_id).await?;
    Ok(Json(json!({
        "id": workforce.id,
        "workforce_metadata": { "name": workforce.name },
    })))
}
