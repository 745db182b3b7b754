"""The lab: the script model, the session, the runner, preflight, lab state, progress, replay."""
