"""门禁与安防: access devices, credentials and their permissions, access records, cameras, alarms."""
