"""创业担保贷款 一网通办 (clause 1.2): loan workflow, repayment schedules, quarterly interest-subsidy settlement."""
