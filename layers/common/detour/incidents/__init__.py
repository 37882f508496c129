"""What happened to a site and what people said of it: alarm transitions, failover windows, the
incident store, notices, the incident timeline and planned maintenance."""
