"""Who works on a ticket: the desk's side of dispatch, and hand-overs during absences."""
