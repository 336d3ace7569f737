//! The MCP server: which tools it lists and where a call goes. The fixed tools are rmcp
//! tool routers (`agent_tools`, and `knowledge_tools` for API keys); the project's tools
//! are a list read from the platform (`project_tools`), so `tools/list` and `tools/call`
//! are written by hand around the routers instead of by `#[tool_handler]`.

use relevance::KeyScope;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use super::project_tools;
use super::surface::Surface;

/// What the host is told at `initialize`.
const INSTRUCTIONS: &str = "Agents, tools, tasks and knowledge of a Relevance AI project \
    (or only the one agent or workforce an embed key is for: a workforce is reached by its \
    id as agent_id). list_agents, then ask_agent; a run that \
    waits for a person's approval is decided with decide_tool_run. Each of the project's \
    own tools is a tool here too.";

/// The server of one `relevance mcp`: the key's surface and the fixed tools it serves.
#[derive(Clone)]
pub struct McpServer {
    pub(super) surface: Surface,
    router: ToolRouter<McpServer>,
}

impl McpServer {
    /// The server for `surface`: the agent tools always, the knowledge tools for an API key
    /// (the platform refuses knowledge to embed keys).
    pub fn new(surface: Surface) -> McpServer {
        let mut router = McpServer::agent_router();
        if surface.scope() == KeyScope::Project {
            router.merge(McpServer::knowledge_router());
        }
        McpServer { surface, router }
    }

    /// The fixed tools' names, which no project tool may take.
    fn reserved(&self) -> Vec<String> {
        self.router
            .list_all()
            .into_iter()
            .map(|tool| tool.name.into_owned())
            .collect()
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        let implementation = Implementation::new("relevance", env!("CARGO_PKG_VERSION"))
            .with_title("Relevance AI (relevance mcp)");
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(implementation)
            .with_instructions(INSTRUCTIONS)
    }

    /// The fixed tools, then the project's. A project listing that fails (a refused key)
    /// leaves the fixed tools, whose calls then say what is wrong.
    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let mut tools = self.router.list_all();
        if let Ok(entries) = project_tools::catalog(&self.surface, &self.reserved()).await {
            tools.extend(entries.iter().map(project_tools::Entry::describe));
        }
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if self.router.has_route(&request.name) {
            return self
                .router
                .call(ToolCallContext::new(self, request, context))
                .await;
        }
        project_tools::call(&self.surface, &self.reserved(), request, context).await
    }
}
