"""社区活动: activities planned and published, sign-ups with capacity and a waiting list, fees, attendance."""
