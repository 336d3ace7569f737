//! What the key given to `relevance mcp` may reach, decided once from the key itself: an
//! API key reaches the project (its agents, tools, tasks and knowledge); an embed key its
//! one public agent or workforce and nothing else. The server lists and serves exactly
//! this, so a host handed an embed key cannot even ask for more.
//!
//! Credentials that cannot make a client (a missing region, an unreadable key file) do not
//! stop the server: every tool then answers the problem as its error, which is where a
//! person configuring a host will see it.

use relevance::{Agent, Client, Error, KeyScope};

use super::owners::Owner;
use super::results::Failure;
use crate::cli::CredentialArgs;
use crate::output;

/// The client (or why there is none) and its reach.
#[derive(Clone, Debug)]
pub struct Surface {
    client: Result<Client, String>,
}

impl Surface {
    /// The surface of a working client.
    pub fn new(client: Client) -> Surface {
        Surface { client: Ok(client) }
    }

    /// The surface of the configured credentials; a client that cannot be made is kept as
    /// its one-line reason (the SDK's errors never print a key's secret).
    pub fn from_credentials(credentials: &CredentialArgs) -> Surface {
        match credentials.client() {
            Ok(client) => Surface::new(client),
            Err(error) => Surface {
                client: Err(output::describe_error(&error).0),
            },
        }
    }

    /// The client, or the credentials' problem as a failure.
    pub fn client(&self) -> Result<&Client, Failure> {
        self.client
            .as_ref()
            .map_err(|why| Failure::new(format!("the credentials are not usable: {why}")))
    }

    /// Whom the key may talk to (a project's scope when there is no client: every tool is
    /// then listed, and each says what is wrong).
    pub fn scope(&self) -> KeyScope {
        match &self.client {
            Ok(client) => client.key().scope(),
            Err(_) => KeyScope::Project,
        }
    }

    /// One line for the log: which project and what kind of key (never the key).
    pub fn describe(&self) -> String {
        match (&self.client, self.scope()) {
            (Err(why), _) => format!("no usable credentials ({why})"),
            (Ok(client), KeyScope::Project) => format!("project {} (API key)", client.project()),
            (Ok(client), KeyScope::Agent(id)) => {
                format!("agent {id} of project {} (embed key)", client.project())
            }
            (Ok(client), KeyScope::Workforce(id)) => {
                format!("workforce {id} of project {} (embed key)", client.project())
            }
        }
    }

    /// What `agent_id` names, if the key reaches it: with a workforce's embed key, that
    /// workforce (the key reaches no agent); otherwise an agent ([`Surface::agent`]).
    pub async fn owner(&self, agent_id: &str) -> Result<Owner, Failure> {
        let client = self.client()?;
        let KeyScope::Workforce(own) = self.scope() else {
            return self.agent(agent_id).await.map(Owner::Agent);
        };
        if own != agent_id {
            return Err(unknown_agent(
                agent_id,
                &format!("this key reaches only workforce {own}; list_agents lists it"),
            ));
        }
        match client.workforces().get(agent_id).await {
            Ok(workforce) => Ok(Owner::Workforce(workforce)),
            Err(Error::NotFound { .. } | Error::Forbidden { .. }) => Err(unknown_agent(
                agent_id,
                "the platform knows no workforce with this id for this key",
            )),
            Err(error) => Err(Failure::platform(
                &format!("reading workforce {agent_id}"),
                error,
            )),
        }
    }

    /// The agent `agent_id`, if the key reaches it. An embed key's other agents are
    /// refused before any request, naming the one it does reach.
    pub async fn agent(&self, agent_id: &str) -> Result<Agent, Failure> {
        let client = self.client()?;
        match self.scope() {
            KeyScope::Agent(own) if own != agent_id => {
                return Err(unknown_agent(
                    agent_id,
                    &format!("this key reaches only agent {own}"),
                ))
            }
            KeyScope::Workforce(own) => {
                return Err(unknown_agent(
                    agent_id,
                    &format!("this key reaches only workforce {own}, and no agent"),
                ))
            }
            _ => {}
        }
        match client.agents().get(agent_id).await {
            Ok(agent) => Ok(agent),
            Err(Error::NotFound { .. } | Error::Forbidden { .. }) => Err(unknown_agent(
                agent_id,
                "no agent with this id is reachable with this key; list_agents lists them",
            )),
            Err(error) => Err(Failure::platform(
                &format!("reading agent {agent_id}"),
                error,
            )),
        }
    }
}

/// "unknown agent" and what the key does reach.
fn unknown_agent(agent_id: &str, why: &str) -> Failure {
    Failure::new(format!("unknown agent {agent_id:?}: {why}"))
}
