//! The control plane: H.225.0 RAS gatekeeper, guardian registry and policy
//! gates. It talks to the media shards only through the engine API and bounded
//! queues, never on the media path.
