"""The platform every app shares: catalogue version, read cache, API fields, localization,
history path and fixture loading. It imports no app of ours."""
