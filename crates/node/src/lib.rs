//! The ferrowsgi addon: listeners, TLS, the tokio runtime, one task per connection, and the batched
//! bridge to the JavaScript thread. BRIDGE.md beside this crate is the contract with `ts/`.

mod accept;
mod body_pool;
mod command;
mod conn_handle;
mod connection;
mod events;
#[cfg(target_os = "linux")]
mod inline_runtime;
mod input_buffer;
mod listener;
mod os_error;
mod outgoing;
mod registry;
mod request_body;
mod response_writer;
mod runtime;
mod server;
mod server_context;
mod shared_stream;
mod task;
mod tls;
#[cfg(target_os = "linux")]
mod uv;
