"""Market-data logic that is not an actor: warming the index history on a (re)start."""
