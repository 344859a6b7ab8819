// PostgresEnvironment: a GoogleTest environment that starts one PostgresServer per test binary
// (*_pgtest). Register it once per binary:
//   [[maybe_unused]] static auto* const kEnv =
//       ::testing::AddGlobalTestEnvironment(new sb::store::testing::PostgresEnvironment);
// and reach the server through PostgresEnvironment::server() from tests. A failed start is a
// fatal failure, so no test runs against a missing server.
#pragma once

#include <memory>

#include <gtest/gtest.h>

#include "sb/store/testing/postgres_server.h"

namespace sb::store::testing {

class PostgresEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    auto server = PostgresServer::Start();
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    Holder() = std::move(server).value();
  }
  void TearDown() override { Holder().reset(); }

  // REQUIRES: SetUp() succeeded.
  static PostgresServer& server() { return *Holder(); }

 private:
  static std::unique_ptr<PostgresServer>& Holder() {
    static std::unique_ptr<PostgresServer> holder;
    return holder;
  }
};

}  // namespace sb::store::testing
