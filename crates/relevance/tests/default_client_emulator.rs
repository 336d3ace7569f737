//! `create_client` and the process-wide default client. One test in its own binary, because
//! the default client is registered once per process.
#![cfg(not(target_family = "wasm"))]

use relevance::{
    create_client, default_client, AgentListOptions, ApiKeyOptions, DefaultClientError, Error,
    Region,
};
use relevance_testkit::sdk::{API_KEY_A, API_KEY_C};
use relevance_testkit::TestEmulator;

#[test]
fn create_client_registers_the_one_default_client() {
    // Bind first and point RELEVANCE_BASE_URL at it while this is the only thread; then start
    // the runtime and the emulator on that listener.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    std::env::set_var("RELEVANCE_BASE_URL", &base_url);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let t = TestEmulator::start_on(listener, tempfile::tempdir().unwrap()).await;
        assert_eq!(t.base_url, base_url);

        let none = default_client().unwrap_err();
        assert!(
            matches!(none, Error::DefaultClient(DefaultClientError::NotCreated)),
            "{none:?}"
        );
        assert!(none.to_string().contains("create_client"), "{none}");

        let client = create_client(ApiKeyOptions {
            api_key: API_KEY_A.into(),
            region: Region::US,
            project: "proj-a".into(),
        })
        .unwrap();
        assert_eq!(client.project(), "proj-a");

        let again = create_client(ApiKeyOptions {
            api_key: API_KEY_C.into(),
            region: Region::US,
            project: "proj-c".into(),
        })
        .unwrap_err();
        assert!(
            matches!(
                again,
                Error::DefaultClient(DefaultClientError::AlreadyCreated)
            ),
            "{again:?}"
        );
        assert!(again.to_string().contains("already"), "{again}");

        // The first registration stands and works.
        let default = default_client().unwrap();
        assert_eq!(default.project(), "proj-a");
        let list = default
            .agents()
            .list(AgentListOptions::default())
            .await
            .unwrap();
        assert_eq!(list.len(), 3);
    });
}
