//! Host tuning for the media engine: sysctl profiles and host checks.
