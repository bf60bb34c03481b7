"""The provider-neutral core: the call pipeline, telemetry, configuration, lifecycle."""
