// The store's first admin user, run by the server pod's `create-admin` init container as
// `npx medusa exec /opt/storeplane-scripts/create-admin.js`: Medusa loads the application and
// calls the default export with its container. The e-mail and password come from the
// environment (the credentials Secret), never from a command line, and are never printed.
// An existing user is left as it is, so a restarted pod never changes the owner's password.
// Plain CommonJS in the shape TypeScript compiles to: it requires nothing, because Medusa's
// node_modules cannot be resolved from the folder this file is mounted in.
"use strict";
Object.defineProperty(exports, "__esModule", { value: true });

exports.default = async function createAdmin({ container }) {
  const logger = container.resolve("logger");
  const email = process.env.MEDUSA_ADMIN_EMAIL;
  const password = process.env.MEDUSA_ADMIN_PASSWORD;
  if (!email || !password) {
    throw new Error("MEDUSA_ADMIN_EMAIL and MEDUSA_ADMIN_PASSWORD must be set");
  }

  const users = container.resolve("user");
  const existing = await users.listUsers({ email });
  if (existing.length > 0) {
    logger.info("The admin user exists: left unchanged.");
    return;
  }

  // What Medusa's own `medusa user` command does: a user, an emailpass identity, and the link.
  const auth = container.resolve("auth");
  const user = await users.createUsers({ email });
  const { authIdentity, error } = await auth.register("emailpass", { body: { email, password } });
  if (error) {
    throw new Error(error);
  }
  await auth.updateAuthIdentities({ id: authIdentity.id, app_metadata: { user_id: user.id } });
  logger.info("The admin user was created.");
};
