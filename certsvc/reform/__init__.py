"""证照分离 made real: credit restrictions (信用约束), filings (审批改为备案) and notification-commitments
(实行告知承诺)."""
