//! `workforce/items/{id}`.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Principal;
use crate::error::{echo_id, ApiError};
use crate::json::ApiPath;
use crate::state::AppState;
use crate::store::definitions;

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
    let project = principal.project.clone();
    let visibility = principal.workforces();
    let lookup = workforce_id.clone();
    let workforce = state
        .store()
        .call(move |connection| {
            definitions::find_workforce(connection, &project, &visibility, &lookup)
        })
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no workforce {} in project {}",
                echo_id(&workforce_id),
                echo_id(&principal.project)
            ))
        })?;
    Ok(Json(json!({
        "id": workforce.id,
        "workforce_metadata": { "name": workforce.name },
    })))
}
