//! Power network (owned by the clearing work; placeholder).
