"""GraphQL composition: core types, the builder that merges plugin contributions,
pagination, dataloaders, permissions and errors."""
