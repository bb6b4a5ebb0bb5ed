"""Operations: proposals checked against the world, their life cycle under the agreement's rules,
and the world cache the checks read."""
