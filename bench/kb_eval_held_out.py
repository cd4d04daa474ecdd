"""The held-out question set of the retrieval benchmark (bench/kb_eval.py): other documents
and other questions than the first set's, written before the fusion rules were measured on
them and never changed after, so the rules cannot have been fitted to them.

Its corpus (bench/kb_eval/held_out/): six Chinese texts the project wrote for its users
(deployment, troubleshooting, security, knowledge bases, batches, capacity), and six of its own
English docs that the first set does not use (the five API contracts under docs/api/ and
docs/knowledge-bases.md, snapshots). Each question is answered by one document."""

CHINESE = {
    "新机器上怎么用一条命令把整套系统跑起来？": "ops-deploy.md",
    "怎么关闭集群并让服务先把手上的活干完？": "ops-deploy.md",
    "签发令牌用的密钥在哪里配置？": "ops-deploy.md",
    "本地运行时服务的日志文件存放在哪个目录？": "ops-deploy.md",
    "数据库应该多久备份一次、保留几天？": "ops-deploy.md",
    "升级版本时数据库结构怎么更新？": "ops-deploy.md",
    "任务创建后一直是 pending 没有开始，是什么原因？": "troubleshooting.md",
    "同步完提示文件损坏该怎么处理？": "troubleshooting.md",
    "检索接口报 7006 错误是什么意思？": "troubleshooting.md",
    "RabbitMQ 重启后需要手动恢复任务吗？": "troubleshooting.md",
    "存储磁盘满了怎么办？": "troubleshooting.md",
    "访问令牌在数据库里是明文保存的吗？": "security.md",
    "为什么访问别的租户的任务返回 404 而不是 403？": "security.md",
    "浏览器里用 WebSocket 没法加请求头，令牌怎么传？": "security.md",
    "系统怎样防止有人借它去访问内网地址？": "security.md",
    "上传的 DOCX 里带 XML 实体声明会怎样？": "security.md",
    "一个租户提交大量任务会不会把别人的任务饿死？": "security.md",
    "知识库支持上传哪些格式的文件？": "kb-guide.md",
    "文档里图片上的文字能被检索到吗？": "kb-guide.md",
    "只改了几个文档，需要全部重新同步吗？": "kb-guide.md",
    "中文提问的时候应该注意什么才能搜得准？": "kb-guide.md",
    "检索结果里怎么知道是关键词还是语义命中的？": "kb-guide.md",
    "切分后的每一小段大概有多长？": "kb-guide.md",
    "模板里需要替换的地方怎么写？": "batches-guide.md",
    "数据行少了模板要用的字段会怎样？": "batches-guide.md",
    "暂停批量任务后正在生成的文档会怎么样？": "batches-guide.md",
    "下载的压缩包里除了文档还有什么？": "batches-guide.md",
    "幻灯片可以选择哪些画面比例？": "batches-guide.md",
    "一份文档失败了还想让其他文档继续生成，要打开什么选项？": "batches-guide.md",
    "任务多的时候应该优先增加哪个服务的实例？": "capacity.md",
    "多个调度器同时运行会不会把同一项工作派发两次？": "capacity.md",
    "十万个文本块的向量索引大概要多少内存？": "capacity.md",
    "基准测试结果为什么用比值表示？": "capacity.md",
    "哪个组件只能纵向扩展？": "capacity.md",
}

ENGLISH = {
    "Who is allowed to register a new batch server?": "batch-servers.md",
    "How do I check whether a server can take a batch before starting it?": "batch-servers.md",
    "What happens to in-flight files when a server disappears mid-task?": "batch-servers.md",
    "Why are batch folders storage prefixes rather than paths on disk?": "batch-servers.md",
    "Which error do I get when unregistering a server that is running a task?":
        "batch-servers.md",
    "How many data rows can one document batch take?": "document-batches.md",
    "Why does downloading the ZIP of a batch redirect?": "document-batches.md",
    "How do I subscribe to task progress over the WebSocket?": "document-batches.md",
    "Which error comes back when I ask for a ZIP that does not exist yet?":
        "document-batches.md",
    "What is the size limit of an uploaded template?": "document-batches.md",
    "How does sequential mode keep the documents in order?": "document-batches.md",
    "Which statuses can I filter a knowledge base's sync tasks by?": "knowledge-base-sync.md",
    "Do documents already indexed stay indexed when a sync is cancelled?":
        "knowledge-base-sync.md",
    "Which of the sync error codes come from the original API?": "knowledge-base-sync.md",
    "Can sync progress be pushed to me instead of polled?": "knowledge-base-sync.md",
    "How are Chinese sentences split into keywords for search?": "knowledge-bases.md",
    "Which embedding model is available offline?": "knowledge-bases.md",
    "How do I plug in a reranker?": "knowledge-bases.md",
    "What happens to pictures inside a PDF during ingestion?": "knowledge-bases.md",
    "How is one pathological document kept from taking down the extraction workers?":
        "knowledge-bases.md",
    "How are chunk sizes counted?": "knowledge-bases.md",
    "How long does the generate call wait for a slide batch at most?": "slide-images.md",
    "How many slides can one batch hold?": "slide-images.md",
    "What status does a slide batch report when some slides failed?": "slide-images.md",
    "Where can I read the structured logs of a slide session?": "slide-images.md",
    "What happens when an identical slide was rendered before?": "slide-images.md",
    "How do I cancel a slide batch?": "slide-images.md",
    "How often do existing clients poll a task?": "task-api.md",
    "What happens to a task's deadline while it is paused?": "task-api.md",
    "Can a tenant admin see other users' tasks?": "task-api.md",
    "Is there an endpoint that creates a code-generation task?": "task-api.md",
    "What is the largest page size when listing a task's items?": "task-api.md",
}
