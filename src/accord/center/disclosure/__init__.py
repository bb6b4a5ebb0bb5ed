"""Hidden declarations as others meet them: the shadows that answer for them (what a proposal may
learn) and the probing limit."""
