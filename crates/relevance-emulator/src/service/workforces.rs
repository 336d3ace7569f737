//! A workforce as its caller may see it (`workforce/items/{id}`): the read goes through
//! here like every other handler's, so the scope rule (an API key sees every workforce
//! of its project, a workforce embed key its own, an agent embed key none) lives in the
//! principal and the 404 in [`ServiceError`], not in the handler.

use super::ServiceError;
use crate::auth::Principal;
use crate::state::AppState;
use crate::store::definitions::{self, WorkforceRecord};

/// The workforce `workforce_id`, if the principal may see it.
pub(crate) async fn workforce(
    state: &AppState,
    principal: &Principal,
    workforce_id: String,
) -> Result<WorkforceRecord, ServiceError> {
    let project = principal.project.clone();
    let visibility = principal.workforces();
    state
        .store()
        .call(move |connection| -> Result<_, ServiceError> {
            definitions::find_workforce(connection, &project, &visibility, &workforce_id)?.ok_or(
                ServiceError::WorkforceNotFound {
                    workforce_id,
                    project,
                },
            )
        })
        .await
}
