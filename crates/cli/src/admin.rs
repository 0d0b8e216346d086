//! `infobank admin …`: staff accounts. Passwords come from standard input, never from arguments
//! (arguments are visible to every user in the process list).

use std::io::BufRead as _;

use clap::Subcommand;
use infobank_accounts::{NewAccount, Role, create_account};
use infobank_web::Config;

use crate::setup::{CliError, prepare};

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create a bank operator account (password read from stdin).
    CreateOperator {
        #[arg(long)]
        email: String,
        /// Name shown in the portal.
        #[arg(long, default_value = "Operator")]
        name: String,
    },
    /// Create a regulator account (password read from stdin).
    CreateRegulator {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Regulator")]
        name: String,
    },
}

pub fn run(command: AdminCommand) -> Result<(), CliError> {
    let (role, email, name) = match command {
        AdminCommand::CreateOperator { email, name } => (Role::Operator, email, name),
        AdminCommand::CreateRegulator { email, name } => (Role::Regulator, email, name),
    };
    let password = read_password()?;
    let ready = prepare(Config::from_env()?)?;
    let mut conn = ready.pool.get().map_err(|e| CliError::Other(e.to_string()))?;
    let new = NewAccount {
        role,
        email: &email,
        password: &password,
        display_name: &name,
    };
    let id = create_account(&mut conn, &ready.keys, &new, infobank_web::clock::now())
        .map_err(|e| CliError::Other(e.to_string()))?;
    println!("created {} account {id}", role.as_str());
    Ok(())
}

fn read_password() -> Result<String, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Other(format!("reading the password from stdin: {e}")))?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        return Err(CliError::Other(
            "no password on stdin; pipe it in, e.g. `printf '%s\\n' \"$PW\" | infobank admin …`".into(),
        ));
    }
    Ok(password)
}
