variable "env" {
  type        = string
  default     = "dev"
  description = "Environment: prefixes every AWS name so dev, staging and prod coexist in one account"
  validation {
    condition     = contains(["dev", "staging", "prod"], var.env)
    error_message = "env must be dev, staging or prod."
  }
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "nodes" {
  type        = map(object({ building = string, location = string }))
  description = "Sensor nodes: name -> where it hangs"
  default = {
    "node-01" = { building = "library", location = "reading-room" }
    "node-02" = { building = "library", location = "archive" }
    "node-03" = { building = "library", location = "entrance" }
    "node-04" = { building = "science", location = "lab-1" }
    "node-05" = { building = "science", location = "lab-2" }
    "node-06" = { building = "science", location = "server-room" }
    "node-07" = { building = "sports", location = "gym" }
    "node-08" = { building = "sports", location = "pool" }
    "node-09" = { building = "dorm-a", location = "floor-1" }
    "node-10" = { building = "dorm-a", location = "floor-2" }
    "node-11" = { building = "admin", location = "lobby" }
    "node-12" = { building = "admin", location = "roof" }
  }
}

variable "alert_email" {
  type        = string
  default     = "ops@example.com"
  description = "Who gets heat and silence alerts"
}

variable "ttl_days" {
  type    = number
  default = 90
}

variable "reporting_interval_s" {
  type        = number
  default     = 60
  description = "Desired reporting interval, pushed to every node's shadow"
}

variable "heat_alert_c" {
  type    = number
  default = 38
}

variable "baseline_messages_per_5min" {
  type        = number
  default     = 12
  description = "Below this many readings per 5 minutes for 10 minutes, the fleet is considered silent"
}
