"""Built-in fact loaders: each module is a plugin offering ``cramprules_loaders``."""
