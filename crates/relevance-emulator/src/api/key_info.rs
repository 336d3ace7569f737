//! `GET auth/info` (PROTOCOL A14): which key this is. Never a secret.

use axum::extract::State;
use axum::Json;
use serde_json::json;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::service::key_info;
use crate::state::AppState;

/// `GET auth/info`: any live key, API or embed.
pub(crate) async fn auth_info(
    principal: Principal,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let info = key_info::key_info(&state, &principal).await?;
    let mut answer = json!({
        "user_id": info.user_id,
        "key_id": info.key_id,
        "permissions": info.permissions,
    });
    if let Some(label) = info.label {
        answer["label"] = json!(label);
    }
    Ok(Json(answer))
}
