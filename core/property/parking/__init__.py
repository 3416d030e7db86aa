"""车位管理: parking areas and spaces, vehicles, fixed-space assignment, rentals, temporary parking fees, occupancy."""
