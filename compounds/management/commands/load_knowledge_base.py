from django.core.management.base import BaseCommand, CommandError

from compounds.knowledge_base import load_knowledge_base
from formulary.common.loading import LoadError


class Command(BaseCommand):
    help = "Load (or refresh) the knowledge base from fixtures/: all of it, or nothing."

    def handle(self, *args, **options):
        self.stdout.write("Loading the knowledge base:")
        try:
            load_knowledge_base(report=self.stdout.write)
        except LoadError as error:
            raise CommandError(f"Nothing was loaded. {error}") from error
        self.stdout.write(self.style.SUCCESS("Knowledge base loaded."))
