//! The use cases, between the handlers and the store (abacus's `domain/`).
