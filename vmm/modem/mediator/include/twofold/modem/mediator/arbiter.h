#pragma once
// One command in flight on the physical line; a bounded queue per persona; round-robin
// between personas, one job per turn; dom0's own housekeeping jobs first.
//
// Fairness bound: when persona B queues a job, at most one job of another persona runs
// before it (the one in flight), plus dom0 housekeeping jobs already queued (at most
// kMaxHousekeeping). A persona flooding its queue only fills its own queue.
#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

#include "twofold/modem/mediator/ownership.h"

namespace twofold::modem::mediator {

inline constexpr std::size_t kMaxHousekeeping = 4;

template <typename Job>
class Arbiter {
 public:
  using Clock = std::chrono::steady_clock;

  Arbiter(std::size_t persona_count, std::size_t queue_capacity)
      : queues_(persona_count), capacity_(queue_capacity) {}

  // False when the persona's queue is full: the caller stops reading that persona's input
  // (back-pressure into its ring) rather than dropping a command.
  bool enqueue(PersonaIndex persona, Job job) {
    if (persona >= queues_.size() || queues_[persona].size() >= capacity_) return false;
    queues_[persona].push_back(std::move(job));
    return true;
  }
  bool has_room(PersonaIndex persona) const {
    return persona < queues_.size() && queues_[persona].size() < capacity_;
  }
  // Housekeeping (modem initialisation, call-list refresh); false when already full.
  bool enqueue_housekeeping(Job job, bool front = false) {
    if (housekeeping_.size() >= kMaxHousekeeping) return false;
    if (front) {
      housekeeping_.push_front(std::move(job));
    } else {
      housekeeping_.push_back(std::move(job));
    }
    return true;
  }

  // When the line is idle: takes the next job (housekeeping first, then the persona after
  // the one served last that has a job) and makes it the one in flight until `deadline`.
  Job* start_next(Clock::time_point deadline) {
    if (in_flight_) return nullptr;
    if (!housekeeping_.empty()) {
      in_flight_.emplace(InFlight{std::move(housekeeping_.front()), std::nullopt, deadline});
      housekeeping_.pop_front();
      return &in_flight_->job;
    }
    for (std::size_t step = 1; step <= queues_.size(); ++step) {
      const PersonaIndex p = (last_served_ + step) % queues_.size();
      if (queues_[p].empty()) continue;
      in_flight_.emplace(InFlight{std::move(queues_[p].front()), p, deadline});
      queues_[p].pop_front();
      last_served_ = p;
      return &in_flight_->job;
    }
    return nullptr;
  }

  Job* in_flight() { return in_flight_ ? &in_flight_->job : nullptr; }
  bool busy() const noexcept { return in_flight_.has_value(); }
  // The persona whose job is in flight (nullopt: housekeeping or idle).
  std::optional<PersonaIndex> in_flight_persona() const {
    return in_flight_ ? in_flight_->persona : std::nullopt;
  }
  // The job in flight gives up the line between two of its turns (one turn: one command, or
  // a command and the +CMGF in front of it) and goes back to the front of its persona's
  // queue; the next start_next() serves the other personas first. So a long line never holds
  // the physical modem for more than one turn at a time. False for housekeeping (atomic).
  bool yield_in_flight() {
    if (!in_flight_ || !in_flight_->persona) return false;
    queues_[*in_flight_->persona].push_front(std::move(in_flight_->job));
    in_flight_.reset();
    return true;
  }
  // Sets the deadline of the turn just started (once per turn, never per command).
  void extend(Clock::time_point deadline) {
    if (in_flight_) in_flight_->deadline = deadline;
  }
  bool expired(Clock::time_point now) const { return in_flight_ && now >= in_flight_->deadline; }

  // The job in flight is done (answered, or abandoned on a timeout); the line is idle.
  std::optional<Job> finish() {
    if (!in_flight_) return std::nullopt;
    std::optional<Job> job(std::move(in_flight_->job));
    in_flight_.reset();
    return job;
  }

  std::size_t queued(PersonaIndex persona) const { return queues_.at(persona).size(); }
  std::size_t housekeeping_queued() const { return housekeeping_.size(); }

 private:
  struct InFlight {
    Job job;
    std::optional<PersonaIndex> persona;
    Clock::time_point deadline;
  };
  std::vector<std::deque<Job>> queues_;
  std::deque<Job> housekeeping_;
  std::size_t capacity_;
  PersonaIndex last_served_ = 0;
  std::optional<InFlight> in_flight_;
};

}  // namespace twofold::modem::mediator
