//! The process-wide default client. One test only: the default is set once per
//! process, so the whole life cycle is checked in order here.

use relevance::{
    create_client, default_client, ApiKeyOptions, Client, DefaultClientError, Error, Key, Region,
};

#[test]
fn the_default_client_is_created_once_and_the_first_stays() {
    assert!(matches!(
        default_client(),
        Err(Error::DefaultClient(DefaultClientError::NotCreated))
    ));

    // A bad credential registers nothing.
    let bad = create_client(ApiKeyOptions {
        api_key: String::new(),
        region: Region::US,
        project: "p".into(),
    });
    assert!(matches!(bad, Err(Error::InvalidKey(_))));
    assert!(default_client().is_err());

    let first = create_client(ApiKeyOptions {
        api_key: "sk-first".into(),
        region: Region::EU,
        project: "first-project".into(),
    })
    .unwrap();
    assert_eq!(first.project(), "first-project");

    let again = create_client(Key::new("sk-second", Region::US, "second-project").unwrap());
    assert!(matches!(
        again,
        Err(Error::DefaultClient(DefaultClientError::AlreadyCreated))
    ));
    let other = Client::builder(Key::new("sk-third", Region::AU, "third-project").unwrap())
        .base_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    assert!(matches!(
        create_client(other),
        Err(Error::DefaultClient(DefaultClientError::AlreadyCreated))
    ));

    let current = default_client().unwrap();
    assert_eq!(current.project(), "first-project");
    assert_eq!(current.region(), Region::EU);
}
