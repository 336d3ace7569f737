//! The running emulator: [`run`] serves until a shutdown future resolves (the
//! CLI's way), [`Emulator::start`] returns a handle (tests and embedding); both
//! go through `startup::prepare` and one `serve`, which owns the background
//! duties (the scheduler, the key-usage flusher) and the clean stop.

use std::future::Future;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

use crate::config::{Config, ConnectionLimits};
use crate::demo::DemoProject;
use crate::demo_page::DemoPage;
use crate::engine::{Engine, LiveEvent};
use crate::server;
use crate::start_error::StartError;
use crate::startup::{loopback_url, prepare, ProjectSummary};
use crate::state::AppState;
use crate::{admin, app};

/// Serves until `shutdown` resolves, ends open live streams, drains open requests,
/// stops the engine's scheduler (pending runs stay stored with their due times), then
/// closes the database.
async fn serve(
    state: AppState,
    demo_page: Option<DemoPage>,
    connections: ConnectionLimits,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let store = state.store().clone();
    let engine = state.engine().clone();
    let scheduler = engine.spawn_scheduler(store.clone());
    // Authentication counts key usage in memory; this writes it every second.
    let usage_flusher = store.spawn_key_usage_flusher(std::time::Duration::from_secs(1));
    let streams = state.clone();
    let router = app::router(state, demo_page);
    let served = server::serve(listener, router, connections, async move {
        shutdown.await;
        // Graceful shutdown waits for open responses; a live stream never ends by itself.
        streams.close_streams();
        // Running tool jobs stop with the server; the next start fails them (their ends
        // would otherwise race the store's closing).
        streams.jobs().abort_all();
    })
    .await
    .map_err(StartError::Serve);
    engine.stop();
    if let Err(error) = scheduler.await {
        tracing::error!(%error, "the engine's scheduler task failed");
    }
    usage_flusher.abort();
    // Closing writes the usage counted since the flusher's last period.
    let closed = store.close().await.map_err(StartError::from);
    served.and(closed)
}

/// Starts the emulator on `listener` and serves until `shutdown` resolves.
///
/// Returns after in-flight requests have finished and the database is closed
/// (its WAL checkpointed). This is the one way to run it; the CLI prints its
/// own banner, since the demo credentials are not returned here — use
/// [`Emulator::start`] to get them.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let local_addr = listener.local_addr().map_err(StartError::Listener)?;
    let prepared = prepare(config, local_addr).await?;
    serve(
        prepared.state,
        prepared.demo_page,
        prepared.connections,
        listener,
        shutdown,
    )
    .await
}

/// A running emulator. Dropping it stops the server (without waiting); call
/// [`Emulator::shutdown`] to wait for a clean stop.
pub struct Emulator {
    local_addr: SocketAddr,
    admin_token: String,
    admin_token_generated: bool,
    demo: Option<DemoProject>,
    projects: Vec<ProjectSummary>,
    engine: Engine,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<Result<(), StartError>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("local_addr", &self.local_addr)
            .field("admin_token", &"<redacted>")
            .field("demo", &self.demo)
            .field("projects", &self.projects)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Seeds the store and starts serving on `listener` (bind it first, e.g. to
    /// `127.0.0.1:0`: the emulator answers as soon as this returns).
    pub async fn start(config: Config, listener: TcpListener) -> Result<Emulator, StartError> {
        let local_addr = listener.local_addr().map_err(StartError::Listener)?;
        let prepared = prepare(config, local_addr).await?;
        let engine = prepared.state.engine().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        // A dropped sender also resolves the receiver: dropping the handle stops the server.
        let server = tokio::spawn(serve(
            prepared.state,
            prepared.demo_page,
            prepared.connections,
            listener,
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(Emulator {
            local_addr,
            admin_token: prepared.admin_token,
            admin_token_generated: prepared.admin_token_generated,
            demo: prepared.demo,
            projects: prepared.projects,
            engine,
            stop: Some(stop),
            server,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://127.0.0.1:PORT` (no trailing slash); an unspecified bind address
    /// is reported as loopback, since that is where a local client reaches it.
    pub fn base_url(&self) -> String {
        loopback_url(self.local_addr)
    }

    /// The admin API's bearer token.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// Whether the admin token was generated (no [`Config::admin_token`]). Only a generated
    /// token needs printing: one the operator supplied is already theirs, and printing it
    /// would copy a secret into terminal scroll-back and logs for nothing.
    pub fn admin_token_generated(&self) -> bool {
        self.admin_token_generated
    }

    /// The dashboard's one-click sign-in URL (it carries the admin token: print it
    /// once, to the operator only). Opening it starts a dashboard session.
    pub fn dashboard_sign_in_url(&self) -> String {
        format!(
            "{}{}",
            self.base_url(),
            admin::dashboard::sign_in_path(&self.admin_token)
        )
    }

    /// The demo project, when started without a seed file.
    pub fn demo(&self) -> Option<&DemoProject> {
        self.demo.as_ref()
    }

    /// The projects the seed (or the demo) defined.
    pub fn projects(&self) -> &[ProjectSummary] {
        &self.projects
    }

    /// Live events of one agent or workforce task (thinking, typed text, state changes,
    /// written messages, and [`LiveEvent::MessageFinal`] when an agent message is
    /// committed final; a workforce task also gets its members' thinking, typing and
    /// messages), from now on. Every event is published after its change is committed,
    /// so a benchmark can time "reply committed" from `MessageFinal`. Subscribing before the task exists is fine: events
    /// flow once a trigger creates it. A receiver that falls more than 256 events
    /// behind gets `RecvError::Lagged`; the task's messages stay readable over HTTP.
    pub fn task_events(&self, project: &str, task_id: &str) -> broadcast::Receiver<LiveEvent> {
        self.engine.subscribe(project, task_id)
    }

    /// Stops accepting connections, lets open requests finish, and closes the
    /// database (checkpointing its WAL).
    pub async fn shutdown(mut self) -> Result<(), StartError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match (&mut self.server).await {
            Ok(result) => result,
            Err(error) => Err(StartError::ServerTask(error.to_string())),
        }
    }
}
