"""创业培训 (clauses 2.4–2.5): providers and accreditation, courses, classes, enrolment with the engine's
eligibility, waiting lists, attendance, completion and certificates, provider subsidy claims through the
application workflow, and 项目制 purchases by a district."""
