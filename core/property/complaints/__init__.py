"""投诉与建议: complaints handled as tickets, and suggestions evaluated, adopted or declined."""
