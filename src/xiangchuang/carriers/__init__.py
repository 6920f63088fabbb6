"""创业载体 service (clauses 1.1 and 3.8): carriers, workstations, tenants, free workstations, bills with
fee reductions, yearly ratings and carrier awards."""
