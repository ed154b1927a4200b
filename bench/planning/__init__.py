"""Planning: suites, framework variants, capabilities, jobs and the cost/time estimate."""
