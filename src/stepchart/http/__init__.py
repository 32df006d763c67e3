"""The Starlette service: transport, authentication and the Workflow Manager routes."""
